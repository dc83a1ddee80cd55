C='人民法院/12368';P='人民检察院/12309';D='纪检监察机关/12388';J='110';A='部队/人武部';W='外省/外市12345';G='公证处';Z='仲裁委员会';L='法律援助12348';E='使领馆';N='不属于政府职能'
I=[
('wechat','我现在在咱市打工，但老家那边的新农合一直扣着没退，我老家是隔壁省的，能在这边帮我办吗？','social_security',[],'help',True,W,'hometown rural insurance in another province'),
('wechat','我老家隔壁省的，现在在咱市上班，想把老家交的社保转到这边来，怎么转？','social_security',[],'consult',False,None,'twin: social insurance transfer into this city'),
('sms','12345#吴女士#在本市#我在外市买的房子 开发商延期交房一年了 当地不管 你们管吗','real_estate',[],'complaint',True,W,'property in another city'),
('sms','12345#吴女士#枫林区江畔名邸#开发商合同写去年底交房 现在还在刷外墙 要求督促','real_estate',[],'complaint',False,None,'twin: local delivery delay'),
('phone','坐席：您好，12345。\n市民：我上个月去外省旅游，在一个景区被强制购物，导游还骂人，我回来了，想投诉。\n坐席：这需要向当地的12345或文旅部门反映。\n市民：你们不能转过去吗？','consumer',[],'complaint',True,W,'forced shopping in another province'),
('phone','坐席：您好，12345。\n市民：我在咱们这边的旅行社报了团，出发前一天取消了，说是人数不够，定金不退。\n坐席：帮您记录消费纠纷。','consumer',[],'complaint',False,None,'twin: local travel agency deposit'),
('weibo','@某市12345 我在外市的老房子漏水，楼下邻居天天打电话骂我，那边物业也不管，你们能不能联系一下？','property',[],'help',True,W,'property in another city'),
('weibo','@某市12345 石湾区金桂园楼上漏水漏到我家天花板，物业说找楼上，楼上不开门 #求助#','property',[],'help',False,None,'twin: local leak'),
('rest','市民来电反映：其父母户籍及居住地均在外市，当地社区拒绝为老人办理高龄补贴。诉求：要求本市督促当地发放。','social_security',[],'complaint',True,W,'elderly subsidy in other city'),
('rest','市民来电反映：其父母户籍已从外市迁入本市青埠区，老人年满八十周岁。诉求：咨询在本市申领高龄补贴的条件和材料。','social_security',[],'consult',False,None,'twin: elderly subsidy after moving in'),
('wechat','外市那边交警给我开了罚单，我根本没去过那里，车牌被套了吧，咱们这能处理吗？','transport',[],'help',True,W,'other city ticket, cloned plate'),
('wechat','户口从外省迁过来，孩子的学籍要转进来，需要什么手续呀？','education',['public_security'],'consult',False,None,'twin: school transfer after hukou move'),
('sms','我在邻市上班 单位欠三个月工资 单位在那边注册的','labor',[],'complaint',True,W,'wage arrears at other city employer'),
('sms','我在石湾区物流园上班 老板欠三个月工资 人找不到了','labor',[],'complaint',False,None,'twin: local wage arrears'),
('phone','坐席：您好。\n市民：我老家那边的路灯坏了一年，我打他们那个热线没人接，你们这边一样是12345，帮我报一下。\n坐席：需要拨打当地的12345。','urban_construction',[],'report',True,W,'streetlight in hometown'),
('phone','坐席：您好。\n市民：枫林区东环路那一段路灯坏了一排，晚上特别黑。\n坐席：帮您登记路灯维修。','urban_construction',[],'report',False,None,'twin: local streetlights'),
('weibo','#外卖# 我在外地出差订的酒店卫生太差，床单有头发，@某市12345 能不能帮忙投诉？','consumer',[],'complaint',True,W,'hotel in other city'),
('rest','''尊敬的市长：
您好！我是本市枫林区居民，今年五十八岁。年轻时我在外省一家国营纺织厂工作了十七年，厂子改制后我回到本市，之后一直在本地的私营企业上班并缴纳社保。今年我去办理退休时才发现，外省那段工龄对应的养老保险缴费记录是空的，当年厂里根本没有给我们交，或者交了却没有转进个人账户。本市社保中心的同志态度很好，说本市这段没问题，但外省那段需要原参保地确认。
我先后打了那边社保局的电话二十多次，不是占线就是说档案在老厂，老厂早就没了。我去年专门坐火车过去一趟，跑了三个部门，每个部门都说不归他们。我年纪大了，来回一趟要两千多块钱，实在跑不动。
我想请求市里出面，跟那边省里的社保部门协调，把我那十七年的缴费记录查清楚、补上，让我能按时领到养老金。我知道这事不是咱市能直接办的，但我实在没有别的办法了，恳请领导帮帮忙。
谢谢！
枫林区居民  138****5703''','social_security',[],'help',True,W,'long letter: pension record held by another province'),
('rest','''尊敬的领导：
您好！我是一名外省来咱市工作的年轻人，在青埠区一家软件公司上班已经三年，社保一直在本市连续缴纳。之前在老家省会也工作过四年，交过城镇职工养老保险和医疗保险。我最近准备在本市买房、落户，朋友告诉我要把外地的社保转到本市来，这样缴费年限可以累计。
我在网上查了一些信息，但不同的网站说法不一样：有的说要先去原参保地开具参保缴费凭证，有的说在本市社保中心提交申请就可以，由这边发联系函。另外，医保的转移是不是和养老保险一起办？医保个人账户余额会不会清零？转移期间看病能不能正常报销？
我工作比较忙，请假不容易，希望能一次把材料准备齐全。恳请相关部门告知办理流程、需要的材料、办理地点和大概时限，如能网上办理更好。
谢谢！
青埠区  一名新市民  138****9126''','social_security',[],'consult',False,None,'long letter twin: transfer social insurance into this city'),
]
