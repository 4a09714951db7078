"""Plain boto3 upload of the same bytes as benches/upload.rs, for the throughput comparison."""
import json
import os
import statistics
import time

import boto3

endpoint = os.environ["CHATVAULT_BENCH_S3_ENDPOINT"]
bucket = os.environ["CHATVAULT_BENCH_S3_BUCKET"]
objects = int(os.environ.get("CHATVAULT_BENCH_OBJECTS", "16"))
size = 4 << 20
runs = 5

data = bytearray(size)
x = 42
mask = (1 << 64) - 1
for i in range(size):
    x ^= (x << 13) & mask
    x ^= x >> 7
    x ^= (x << 17) & mask
    data[i] = x & 0xFF
data = bytes(data)

s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
rates = []
for run in range(runs):
    t0 = time.perf_counter()
    for i in range(objects):
        s3.put_object(Bucket=bucket, Key=f"bench-boto3/run{run}/obj{i}", Body=data)
    rates.append(objects * size / (time.perf_counter() - t0) / (1 << 20))
print(json.dumps({"client": "boto3", "median_mib_s": round(statistics.median(rates), 2), "runs": runs, "objects": objects, "object_mib": 4}))
