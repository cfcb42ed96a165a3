# The README's complete new-cell example: write, gradcheck and train JANET.
add_test(NAME example_custom_cell COMMAND example_custom_cell --steps 300)
