C='人民法院/12368';P='人民检察院/12309';D='纪检监察机关/12388';J='110';A='部队/人武部';W='外省/外市12345';G='公证处';Z='仲裁委员会';L='法律援助12348';E='使领馆';N='不属于政府职能'
I=[
('wechat','我被人告了，要赔十几万，我低保户哪请得起律师，政府能不能给我派个律师？','other',[],'help',True,L,'low-income defendant needs free lawyer'),
('wechat','我是低保户，今年低保金怎么少了一百多？是标准变了还是算错了？','social_security',[],'consult',False,None,'twin: minimum allowance amount'),
('sms','12345#冯女士#枫林区#老公出车祸死了 对方公司不赔 我不懂法 请政府帮我打官司','other',['transport'],'help',True,L,'wrongful death claim; legal aid'),
('sms','12345#冯女士#枫林区#老公去世了 他的养老保险个人账户余额怎么领 要什么材料','social_security',[],'consult',False,None,'twin: pension account inheritance'),
('phone','坐席：您好，12345。\n市民：我儿子十七岁，跟人打架被抓了，要起诉，我们家没钱请律师，听说未成年的可以免费请？\n坐席：未成年人涉案可以申请法律援助，您可以拨打12348。','other',[],'consult',True,L,'juvenile defendant legal aid'),
('phone','坐席：您好，12345。\n市民：我儿子十七岁，初中毕业没念书，想去职业学校读，有没有免学费的政策？\n坐席：帮您查询中职免学费政策。','education',[],'consult',False,None,'twin: vocational school tuition waiver'),
('weibo','@某市12345 农民工讨薪打官司要先交诉讼费，我们哪有钱？有没有免费律师帮我们写诉状？#农民工#','labor',[],'help',True,L,'migrant worker needs legal aid for lawsuit'),
('rest','市民来电反映：其为残疾人，与他人发生人身损害赔偿纠纷，准备起诉但无力支付律师费。诉求：请政府为其指派律师代理诉讼。','other',[],'help',True,L,'disabled person legal representation'),
('rest','市民来电反映：其为二级肢体残疾人，今年残疾人两项补贴尚未到账。诉求：咨询发放时间并要求核查。','social_security',[],'complaint',False,None,'twin: disability subsidies late'),
('sms','被前夫家暴多年 想离婚 他不同意 没钱请律师 谁能帮','other',['public_security'],'help',True,L,'divorce legal aid'),
('wechat','我六十多了，想写个起诉状告我侄子占我房子，不会写，你们这边能帮忙写吗😔','other',[],'help',True,L,'help drafting a complaint'),
('rest','''尊敬的市长：
您好！我是一名在石湾区建筑工地干活的农民工，老家在本省山区。今年三月我在工地上从脚手架摔下来，腰椎骨折，住了两个月医院。包工头一开始垫了一万块医药费，后来就不接电话了。工地的总包公司说我是包工头招的人，跟他们没有关系。
出院后我去人社局申请了工伤认定，工作人员很耐心，已经认定了是工伤，这一点我非常感谢。可是认定之后，要让公司赔钱，还得走劳动能力鉴定、仲裁，甚至打官司。我小学文化，很多字都认不全，那些表格根本填不明白。现在我不能干重活，家里两个孩子上学，老婆在老家照顾老人，我连每个月的房租都交不上了。
我听工友说政府有免费的律师，可以帮我们这样的人打官司，但不知道去哪找，要带什么东西，是不是要交钱。恳请领导告诉我，或者直接帮我联系一位律师，让我能拿到应得的工伤赔偿。
谢谢您！
一名农民工  138****8824''','labor',[],'help',True,L,'long letter: injured worker needs lawyer after recognition; legal aid'),
('rest','''尊敬的领导：
您好！我是枫林区的一名退休职工，今年六十七岁。我妹妹去年因病去世，留下一个十岁的外甥女，父亲早年下落不明。现在孩子跟着我生活，我是她唯一的亲人。
我想正式成为孩子的监护人，这样她上学、看病、办各种手续都方便。但村里说要去法院申请，法院又说要先确定她父亲的情况，可能要宣告失踪。我完全不懂这些法律程序，也请不起律师，孩子的学费和生活费已经让我很吃力了。
我想请政府给我指派一个律师，帮我办理监护权和宣告失踪的手续。另外，像我们这种情况，孩子能不能申请孤儿或者事实无人抚养儿童的补助？我也想一并问问。
谢谢领导，盼复！
枫林区  一位老人  138****3490''','other',['social_security'],'help',True,L,'long letter: guardianship proceedings, asks for lawyer; legal aid'),
('rest','''尊敬的市领导：
您好！我是石湾区的一名居民，今年五十五岁，单身，没有工作。前年我借给一个“朋友”五万块钱，是我全部的积蓄。当时没有打借条，只有几条微信聊天记录和一张银行转账凭证。现在他不承认是借款，说是我“送”他的。
我去社区调解过一次，他根本不来。有人告诉我可以去法院起诉，可是我看了一下，起诉要写诉状、准备证据、交诉讼费，还要出庭，我一个人实在不知道该从哪里下手。我的收入只有每月几百块的临时工钱，请律师至少要几千块，我负担不起。
我想问：政府能不能免费给我提供律师，帮我把这个钱要回来？像我这样的情况，符不符合条件，需要开什么证明，去哪里申请？
恳请回复，谢谢！
石湾区  一名居民  138****6607''','other',[],'help',True,L,'long letter: unwritten loan, needs free lawyer'),
]
