import json,glob,importlib.util
out=[];n=0
DROP=set(open('/work/wt/data-oos2/normalize/learn/corpus/src_oos2/drop.txt').read().strip().split('\n'))
for f in sorted(glob.glob('/work/wt/data-oos2/normalize/learn/corpus/src_oos2/p*.py')):
    s=importlib.util.spec_from_file_location('m',f);m=importlib.util.module_from_spec(s);s.loader.exec_module(m)
    for it in m.I:
        if it[7] in DROP: continue
        ch,t,c,alt,rt,oos,ref,no=it[:8];em=it[8] if len(it)>8 else None
        n+=1
        out.append(dict(id='xw-%04d'%n,channel=ch,text=t,category=c,category_alt=alt,request_type=rt,emergency=em,out_of_scope=oos,referral=ref,notes=no))
open('/work/wt/data-oos2/normalize/learn/corpus/extra-oos2.jsonl','w').write(''.join(json.dumps(o,ensure_ascii=False)+'\n' for o in out))
print(len(out),sum(o['out_of_scope'] for o in out))
