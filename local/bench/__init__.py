"""`make bench`: measure cost and speed on this machine and write docs/benchmarks.md.

Everything runs locally (DynamoDB Local, the simulator, in-process handlers, the local stack, a local
LMS). Figures are medians of repeated runs taken in one go; ratios compare measurements made side by
side. One module per thing measured: `storage` (capacity units per callback), `handler` (CPU, cold
start, memory), `stack` (the local stack over HTTP, completion latency), `delivery` (sync throughput),
`reliability` (the suites' own figures); `workload` is the standard traffic and `report` the document.
"""
