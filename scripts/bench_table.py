"""Formats the two benchmark results as a Markdown table with the ratio."""
import json
import sys

r, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print()
print("| client | median MiB/s (16 x 4 MiB objects, 5 runs) |")
print("|---|---|")
print(f"| ChatVault (OpenDAL with retry, timeout, concurrency layers) | {r['median_mib_s']} |")
print(f"| boto3 put_object | {p['median_mib_s']} |")
print(f"| ratio ChatVault / boto3 | {r['median_mib_s'] / p['median_mib_s']:.2f} |")
