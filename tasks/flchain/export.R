source(commandArgs(TRUE)[2])
# chapter (cause of death) is only known for the dead: it would leak the event, so it is dropped.
d <- dataset("survival", "flchain")
d$chapter <- NULL
write_full(d)
