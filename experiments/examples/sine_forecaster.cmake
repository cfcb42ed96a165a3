# The stacked-LSTM sine forecaster, briefly trained; it exits 1 unless it beats predicting the mean 10x.
add_test(NAME example_sine_forecaster COMMAND example_sine_forecaster --steps 300)
