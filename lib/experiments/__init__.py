"""What the pages measure, as plain data: evaluation, the row-order analysis, the conclusion's tests, scaling,
Inspect's internals and readings, drawn digits, and the statistics of uncertainty."""
