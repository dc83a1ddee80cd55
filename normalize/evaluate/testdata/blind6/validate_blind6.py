import json, sys, collections
CATS="consumer property cityscape housing_fund real_estate transport labor social_security health education environment utilities urban_construction public_security government_services other".split()
RT="consult help complaint report suggestion praise other".split()
EMS=[None,"police","fire","medical","traffic"]
REFS=["人民法院/12368","人民检察院/12309","纪检监察机关/12388","110","部队/人武部","外省/外市12345","公证处","仲裁委员会","法律援助12348","使领馆","不属于政府职能"]
CH="wechat sms weibo phone rest".split()
KEYS="救命 着火 火灾 报警 车祸 110 119 120 122".split()
GROUPS={"EMERG":40,"NOTEMERG":30,"OOS":30,"INSCOPE_LOOKALIKE":25,"ORDINARY":50,"LETTER":25}
FIELDS=["id","channel","text","category","category_alt","request_type","emergency","out_of_scope","referral","notes"]
rows=[json.loads(l) for l in open(sys.argv[1],encoding="utf-8")]
err=[]
ids=[r["id"] for r in rows]
if len(set(ids))!=len(ids): err.append("dup ids")
if ids!=[f"b6-{i:03d}" for i in range(1,len(rows)+1)]: err.append("id sequence")
if len(set(r["text"] for r in rows))!=len(rows): err.append("dup text")
g=collections.defaultdict(list)
for r in rows:
    if list(r)!=FIELDS: err.append(r["id"]+" fields")
    if r["channel"] not in CH: err.append(r["id"]+" channel")
    if r["category"] not in CATS: err.append(r["id"]+" cat")
    if not isinstance(r["category_alt"],list) or any(c not in CATS or c==r["category"] for c in r["category_alt"]): err.append(r["id"]+" alt")
    if r["request_type"] not in RT: err.append(r["id"]+" rt")
    if r["emergency"] not in EMS: err.append(r["id"]+" em")
    if not isinstance(r["out_of_scope"],bool): err.append(r["id"]+" oos")
    if r["out_of_scope"] != (r["referral"] is not None): err.append(r["id"]+" oos/ref mismatch")
    if r["referral"] is not None and r["referral"] not in REFS: err.append(r["id"]+" ref")
    grp=r["notes"].split()[0]
    if grp not in GROUPS: err.append(r["id"]+" group")
    g[grp].append(r)
for k,n in GROUPS.items():
    if len(g[k])!=n: err.append(f"{k} count {len(g[k])}")
E=g["EMERG"]
for kind in EMS[1:]:
    if sum(r["emergency"]==kind for r in E)!=10: err.append("EMERG kind "+kind)
nokey=sum(not any(k in r["text"] for k in KEYS) for r in E)
if nokey<30: err.append("EMERG nokey %d"%nokey)
if any(r["emergency"] for r in g["NOTEMERG"]+g["OOS"]+g["INSCOPE_LOOKALIKE"]+g["ORDINARY"]): err.append("emergency outside EMERG/LETTER")
if any(r["out_of_scope"] for r in g["EMERG"]+g["NOTEMERG"]+g["INSCOPE_LOOKALIKE"]+g["ORDINARY"]): err.append("oos outside OOS/LETTER")
if not all(r["out_of_scope"] for r in g["OOS"]): err.append("OOS not oos")
rc=collections.Counter(r["referral"] for r in g["OOS"])
if any(rc[x]<2 for x in REFS): err.append("ref coverage %s"%rc)
O=g["ORDINARY"]
if set(r["category"] for r in O)!=set(CATS): err.append("ORD cats")
if set(r["request_type"] for r in O)!=set(RT): err.append("ORD rts")
if set(r["channel"] for r in O)!=set(CH): err.append("ORD chans")
T=g["LETTER"]
if any(not(300<=len(r["text"])<=900) for r in T): err.append("letter len %s"%[len(r["text"]) for r in T])
if sum(bool(r["emergency"]) for r in T)!=3: err.append("letter em")
if sum(r["out_of_scope"] for r in T)!=3: err.append("letter oos")
if any(not r["text"].startswith("尊敬的") for r in T): err.append("letter opening")
print("items",len(rows))
print("groups",{k:len(v) for k,v in g.items()})
print("channels",dict(collections.Counter(r["channel"] for r in rows)))
print("channel x group",{k:dict(collections.Counter(r["channel"] for r in v)) for k,v in g.items()})
print("emergency",dict(collections.Counter(r["emergency"] for r in rows)))
print("EMERG without keywords",nokey)
print("referrals (OOS group)",dict(rc))
print("out_of_scope total",sum(r["out_of_scope"] for r in rows))
print("categories",dict(collections.Counter(r["category"] for r in rows)))
print("request_types",dict(collections.Counter(r["request_type"] for r in rows)))
print("letter lengths min/max",min(len(r["text"]) for r in T),max(len(r["text"]) for r in T))
print("ERRORS",err if err else "none")
