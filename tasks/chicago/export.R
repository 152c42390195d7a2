source(commandArgs(TRUE)[2])
# Daily Clark/Lake ridership with 14-day-lagged station counts, weather and games; split by date.
d <- dataset("modeldata", "Chicago")
d$date <- format(d$date, "%Y-%m-%d")
write_full(d)
