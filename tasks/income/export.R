source(commandArgs(TRUE)[2])
# The income bands as ordered codes 1..9. The order is spelled out: sorting the labels as text would
# not give the bands' order in general, and the factor's own order must not be trusted silently.
bands <- c("-10.000)", "[10.000-15.000)", "[15.000-20.000)", "[20.000-25.000)", "[25.000-30.000)",
           "[30.000-40.000)", "[40.000-50.000)", "[50.000-75.000)", "[75.000-")
d <- dataset("kernlab", "income")
code <- match(as.character(d$INCOME), bands)
stopifnot(!anyNA(code))
d$INCOME <- code
write_full(d)
