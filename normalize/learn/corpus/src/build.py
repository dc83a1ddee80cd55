import json, collections, sys, os
sys.path.insert(0, os.path.dirname(__file__))
from r3_a import A; from r3_b import B; from r3_c import C
items = A + B + C
try:
    from r3_d import D; items += D
except ImportError: pass
out = []
for i, (ch, t, cat, alt, rt, note) in enumerate(items, 1):
    out.append(dict(id="xt-%04d" % i, channel=ch, text=t, category=cat, category_alt=alt, request_type=rt,
                    emergency=None, out_of_scope=False, referral=None, notes=note))
with open(os.path.join(os.path.dirname(__file__), "..", "extra-requests3.jsonl"), "w") as f:
    for o in out: f.write(json.dumps(o, ensure_ascii=False) + "\n")
short = A + B + C
print("short", len(short), collections.Counter(x[4] for x in short))
print("short cats", len(set(x[2] for x in short)), sorted(collections.Counter(x[2] for x in short).items()))
long = [x for x in short if len(x[1]) >= 60]; print("too long", long)
