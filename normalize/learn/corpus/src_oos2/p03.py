C='人民法院/12368';P='人民检察院/12309';D='纪检监察机关/12388';J='110';A='部队/人武部';W='外省/外市12345';G='公证处';Z='仲裁委员会';L='法律援助12348';E='使领馆';N='不属于政府职能'
I=[
('wechat','我要实名举报我们村支书，低保名额全给他亲戚了，还收了人家的烟酒，这个你们管不管？','social_security',[],'report',True,D,'village official corruption; discipline body'),
('wechat','我们村今年低保评议没开会就定了名单，我家符合条件却没评上，想问怎么申请复核？','social_security',[],'consult',False,None,'twin: minimum allowance review application'),
('sms','12345#匿名#枫林区#举报区住建局某科长收开发商红包 周末开对方的车去钓鱼','other',['real_estate'],'report',True,D,'official bribery report'),
('sms','12345#孙先生#枫林区翠湖路#区住建局窗口办预售许可查询 科员说系统坏了让我下周再来 已经第三次了','government_services',[],'complaint',False,None,'twin: window staff delaying'),
('phone','坐席：您好，12345。\n市民：我反映个事，街道办的一个副主任，上班时间天天在外面打麻将，我拍到照片了。\n坐席：这是公职人员的作风问题？\n市民：对，你们政府自己人，你们不管谁管？','other',[],'report',True,D,'official misconduct off duty'),
('phone','坐席：您好，12345。\n市民：我到街道办开居住证明，工作人员中午十一点半就不接待了，门口写着十二点下班。\n坐席：您是反映窗口提前下班？\n市民：对。','government_services',[],'complaint',False,None,'twin: window closed early'),
('weibo','@某市12345 某局领导儿子结婚摆了八十桌，公车排成一排停在酒店门口，这算不算违反八项规定？#举报#','other',[],'report',True,D,'official lavish wedding'),
('weibo','@某市12345 石湾区新华路这家酒店办婚宴，停车把整条辅路堵死，公交都过不去 #交通#','transport',[],'complaint',False,None,'twin: wedding parking blocking road'),
('rest','市民来电反映：其怀疑所在镇政府在老旧小区改造工程招标中存在领导干部插手、指定施工队的问题。诉求：要求对相关干部进行调查处理。','urban_construction',[],'report',True,D,'official interference in tender'),
('rest','市民来电反映：其所在的青埠区纺机宿舍老旧小区改造施工已停工两个月，楼道管线拆了一半，雨水顺墙漏进屋内。诉求：请相关部门督促尽快复工。','urban_construction',[],'complaint',False,None,'twin: stalled old-compound renovation'),
('wechat','举报一下，我们学校校长把食堂承包给他小舅子，饭菜又贵又差，这个校长是不是违纪？','education',['consumer'],'report',True,D,'headmaster nepotism; discipline'),
('wechat','我们学校食堂饭菜又贵又差，一份素菜八块钱，孩子天天吃不饱，能不能让教育局查一下价格？','education',[],'complaint',False,None,'twin: school canteen prices'),
('sms','城管队长收摊贩保护费 每月两百 我有转账记录 要求查处','cityscape',[],'report',True,D,'official extortion of vendors'),
('sms','城管在石湾区菜场门口收走我的三轮车没开单子 想要回来 去哪里','cityscape',[],'help',False,None,'twin: vendor tricycle seized'),
('phone','坐席：您好。\n市民：我爸在财政局当过处长，退休了，有人说他当年违规拿过补贴，要来查他，我就想问问你们，这事最后谁定性？\n坐席：对公职人员违纪违法的认定由纪检监察机关负责。','other',[],'consult',True,D,'who investigates retired official'),
('phone','坐席：您好。\n市民：我爸是财政局退休的，今年养老金调整了吗？他那个职业年金怎么领？\n坐席：您是咨询机关事业单位退休待遇。','social_security',[],'consult',False,None,'twin: civil servant pension adjustment'),
('weibo','#曝光# 拍到某单位公务车周末停在景区停车场，车牌都清清楚楚，@某市12345 查不查？','other',[],'report',True,D,'official car private use'),
('rest','''尊敬的市领导：
您好！我是枫林区桃源镇下湾村的一名普通村民，今天斗胆写信，是因为实在憋不住了。这几年我们村搞土地流转，村里把两百多亩地租给了一家种植合作社，每亩每年应该有八百元租金。可这三年我们只拿到了每亩五百元，村干部说是“扣了管理费和水利费”。我们去问扣费标准，没有任何文件，也没开过村民大会。后来有村民发现，那家合作社的法人是村主任的连襟，合作社给村里的实际租金是每亩九百元。也就是说，中间每亩四百块钱不知道去哪儿了。
我们几户人家一起去镇里反映过两次，镇里的同志说会了解，但之后就没了下文。今年春节前，村主任还在村口放话，说谁再去告就别想拿补贴。大家都怕了。
我知道土地流转本身是好事，我们也愿意配合。我们反映的不是政策，而是村干部可能侵占村民的钱、搞亲属利益输送的问题。请领导派人查一查这笔账究竟怎么回事，对违纪违法的干部严肃处理，还我们一个公道。
此致
敬礼！
下湾村村民  联系电话138****2261''','other',[],'report',True,D,'long letter: village cadre embezzlement of land rent'),
]
