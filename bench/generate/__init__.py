"""A deterministic, realistic data set for benchmarks, shaped by the real files in
`../shared/data/`: `sources` reads them once, `texts` scores their texts, `simulate` files
each case's thread through the product's own case rules, `write` loads the rows in bulk."""
