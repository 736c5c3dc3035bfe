import numpy, scipy, pandas

print("OK")
