C='人民法院/12368';P='人民检察院/12309';D='纪检监察机关/12388';J='110';A='部队/人武部';W='外省/外市12345';G='公证处';Z='仲裁委员会';L='法律援助12348';E='使领馆';N='不属于政府职能'
I=[
('wechat','我要出国留学，学校要我的出生证明和无犯罪记录做公证，你们政府能直接给我盖个章吗？','government_services',[],'consult',True,G,'notarization for study abroad'),
('wechat','我要出国留学，需要开无犯罪记录证明，去派出所开还是网上能申请？','public_security',['government_services'],'consult',False,None,'twin: no-criminal-record certificate'),
('sms','12345#郑先生#石湾区#我爸立遗嘱 想让政府做个见证 防止以后兄弟不认','other',[],'help',True,G,'will witnessing'),
('sms','12345#郑先生#石湾区#我爸八十五了 想申请居家养老上门服务 怎么办','social_security',[],'consult',False,None,'twin: home elderly care service'),
('phone','坐席：您好，12345。\n市民：我借给朋友钱，想签个协议，能不能让你们出个公证，他以后赖账就好办了？\n坐席：借款协议的公证需要到公证处办理。\n市民：公证处在哪？','other',[],'consult',True,G,'loan agreement notarization'),
('phone','坐席：您好，12345。\n市民：我想开个小饭馆，营业执照和食品经营许可证在哪办，能一起办吗？\n坐席：可以在政务服务中心一窗通办。','government_services',[],'consult',False,None,'twin: business licence'),
('weibo','@某市12345 房子要卖给亲戚，对方要求做个赠与公证，跑了几趟都说要预约，你们能帮我插个队吗？','real_estate',[],'help',True,G,'gift notarization queue'),
('weibo','@某市12345 枫林区不动产登记中心取号要排到下午，三个窗口只开一个 #办事难#','government_services',['real_estate'],'complaint',False,None,'twin: real estate registration queue'),
('rest','市民来电反映：其在国外居住的女儿需委托其在本市办理房屋出售，询问委托书如何生效。诉求：咨询委托书认证。','real_estate',[],'consult',True,G,'power of attorney notarization'),
('rest','市民来电反映：其名下房屋已售出，买方已付全款。诉求：咨询二手房过户的税费标准和不动产登记所需材料。','real_estate',[],'consult',False,None,'twin: resale transfer fees'),
('wechat','我想把我跟前夫的离婚协议公证一下，这样他就不敢不给抚养费，是在你们这办吗？','other',[],'consult',True,G,'divorce agreement notarization'),
('wechat','我跟前夫离婚后孩子户口要从他那迁到我这，他不配合给户口本，怎么办？','public_security',[],'help',False,None,'twin: child hukou transfer uncooperative ex'),
('sms','我需要一个亲属关系公证 出国探亲用 能在街道开吗','government_services',[],'consult',True,G,'kinship notarization'),
('sms','我需要开个居住证明 孩子上学用 在街道还是社区开','government_services',['education'],'consult',False,None,'twin: residence certificate'),
('phone','坐席：您好。\n市民：我们家拆迁分了三套房，兄弟几个说好怎么分，想找个机关把协议固定下来，以后谁都不能反悔。\n坐席：家庭协议可以到公证处办理公证。','other',['urban_construction'],'consult',True,G,'family agreement notarization'),
('weibo','#提存# 房东躲着不收房租，说我违约要赶我走，听说可以把钱提存公证 @某市12345 怎么弄？','other',[],'consult',True,G,'rent escrow via notary'),
('phone','坐席：您好。\n市民：房东不退押金，合同到期都一个月了，我是在中介那里租的，中介也推。\n坐席：帮您记录房屋中介纠纷。','consumer',['real_estate'],'complaint',False,None,'twin: agent deposit refund'),
('rest','''尊敬的领导：
您好！我是石湾区居民，今年七十三岁，老伴三年前去世。我名下有一套石湾区滨江路的房子，和一些存款。我有两个儿子一个女儿，平时主要是小女儿照顾我，两个儿子在外地很少回来。我想趁现在头脑清楚，把房子留给女儿，存款三个孩子平分，免得我走后他们为这个吵架。
我听邻居说自己写遗嘱不一定算数，需要有政府的人来“做个证”。上个月我去了社区，社区说他们不能做。我又去了街道办，街道办的同志说这不归他们。我腿脚不好，来回一趟很辛苦，心里也很着急。
我想问一下，市里能不能派个工作人员到我家来，给我的遗嘱盖个公章、做个见证？要是政府不能做，那应该找哪里、要带什么东西、能不能上门办理、费用大概是多少？还请领导给我指条路，谢谢！
石湾区滨江路  一位老人  家属电话138****4470''','other',[],'consult',True,G,'long letter: will, asks government to witness; notary'),
]
