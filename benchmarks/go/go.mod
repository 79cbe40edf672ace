module goro-benchmarks

go 1.22
