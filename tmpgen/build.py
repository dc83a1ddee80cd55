import json,h
import b1,b2,b3,b4
try:
    import b5
except ImportError: pass
try:
    import b6
except ImportError: pass
try:
    import b7
except ImportError: pass
out=[]
for i,it in enumerate(h.items,1):
    d={"id":"xg-%04d"%i}; d.update(it); out.append(d)
with open("../normalize/learn/corpus/extra-emerg3.jsonl","w") as f:
    for d in out: f.write(json.dumps(d,ensure_ascii=False)+"\n")
print(len(out))
