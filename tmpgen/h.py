import json
items=[]
def I(ch,text,cat,alt,rt,em,note):
    items.append(dict(channel=ch,text=text,category=cat,category_alt=alt,request_type=rt,emergency=em,out_of_scope=False,referral=None,notes=note))
