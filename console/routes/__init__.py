"""One module per area of the console; each is a thin layer over one part of operations/."""
