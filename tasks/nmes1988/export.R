source(commandArgs(TRUE)[2])
# Target: physician office visits. The other visit counts are outcomes of the same survey year, so
# they are dropped; emergency and hospital stays stay as in AER's standard model.
d <- dataset("AER", "NMES1988")
d$nvisits <- NULL
d$ovisits <- NULL
d$novisits <- NULL
write_full(d)
