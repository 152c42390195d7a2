source(commandArgs(TRUE)[2])
write_full(dataset("ggplot2", "diamonds"))
