// Everything in optim/: optimisers, gradient clipping and learning-rate schedules.
#pragma once

#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/optimizer.h"
#include "optim/resume.h"
#include "optim/rmsprop.h"
#include "optim/schedule.h"
#include "optim/sgd.h"
