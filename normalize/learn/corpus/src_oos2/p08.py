C='人民法院/12368';P='人民检察院/12309';D='纪检监察机关/12388';J='110';A='部队/人武部';W='外省/外市12345';G='公证处';Z='仲裁委员会';L='法律援助12348';E='使领馆';N='不属于政府职能'
I=[
('wechat','我被公司辞退了，公司说我违纪不给赔偿，我觉得是他们找借口，应该赔N+1，你们能帮我判一下谁对吗？','labor',[],'help',True,Z,'dismissal compensation dispute needs ruling'),
('wechat','公司辞退我之后，最后一个月工资一直拖着不发，说要等财务，已经两个月了，能帮我催吗？','labor',[],'help',False,None,'twin: final wages withheld'),
('sms','12345#钱先生#青埠区#装修合同写了纠纷由仲裁委解决 装修公司延期两个月 我要索赔 政府给个说法','consumer',[],'complaint',True,Z,'renovation contract with arbitration clause'),
('sms','12345#钱先生#青埠区#装修公司收了定金三万后关门 电话打不通 要求查处','consumer',[],'complaint',False,None,'twin: renovation company absconded'),
('phone','坐席：您好，12345。\n市民：我跟合伙人开的店散伙了，他说账上只剩两万，我投了二十万，合伙协议上写着争议提交仲裁，那我是不是找你们？\n坐席：合伙协议约定仲裁的，需要向约定的仲裁委员会申请。','other',[],'consult',True,Z,'partnership dispute, arbitration clause'),
('phone','坐席：您好，12345。\n市民：我想把个体户转成公司，原来的营业执照怎么注销，新公司怎么注册？\n坐席：帮您说明市场主体登记流程。','government_services',[],'consult',False,None,'twin: business registration change'),
('weibo','@某市12345 公司说我工伤是自己不小心，不给认定以外的那部分赔偿，到底赔多少你们来定吧 #打工人#','labor',[],'help',True,Z,'work injury compensation amount dispute'),
('weibo','@某市12345 我在厂里切伤手指，厂里不给报工伤，想问工伤认定去哪申请、要多久 #工伤#','labor',[],'consult',False,None,'twin: work-injury recognition application'),
('rest','市民来电反映：其与原单位就竞业限制补偿金发生争议，单位称其违约要求返还。诉求：请政府裁定双方谁违约。','labor',[],'help',True,Z,'non-compete dispute'),
('rest','市民来电反映：其所在公司未与其签订书面劳动合同已满八个月，且未缴纳社会保险。诉求：请劳动监察部门督促公司签合同、补缴社保。','labor',['social_security'],'complaint',False,None,'twin: no contract, no social insurance'),
('wechat','我跟房东签的合同里有一条，纠纷提交仲裁委员会解决，现在他不退我押金，我是直接找你们还是去仲裁？','real_estate',['consumer'],'consult',True,Z,'lease with arbitration clause'),
('sms','公司说我试用期不合格 要少发工资 我不认 想让劳动局判','labor',[],'help',True,Z,'probation pay dispute; labor arbitration'),
('sms','公司这个月工资条里扣了两百 说是迟到罚款 合法吗 想咨询','labor',[],'consult',False,None,'twin: wage deduction consultation'),
('phone','坐席：您好。\n市民：我跟货运公司签了合同，货给弄坏了，他们只赔运费，合同写的是有争议去仲裁，我能让你们帮我要全款吗？\n坐席：合同约定了仲裁，需要向仲裁委员会申请。','consumer',[],'help',True,Z,'freight damage dispute, arbitration clause'),
('phone','坐席：您好。\n市民：快递把我寄的瓷器摔碎了，快递点说保价才赔，我没保价，这合理吗？\n坐席：帮您记录快递服务投诉。','consumer',[],'complaint',False,None,'twin: courier damage complaint'),
('weibo','#加班费# 公司说我们是综合工时制所以没加班费，我觉得不是，这个要谁来认定？@某市12345','labor',[],'consult',True,Z,'overtime dispute; arbitration'),
('weibo','#加班# 石湾区某电子厂每天强制加班到晚十点，不加班就扣全勤 @某市12345 请劳动监察查一查','labor',[],'report',False,None,'twin: forced overtime report'),
('rest','''尊敬的市领导：
您好！我是一名在青埠区一家外贸公司工作了六年的员工。今年九月，公司以“经营困难、岗位调整”为由，要求我从业务部门调到仓库做搬运，工资从每月九千降到四千五。我没有同意，公司就说我“不服从安排”，按严重违纪把我开除了，不给任何经济补偿。
我认为公司是在变相裁员。按我了解的法律规定，公司单方面调岗降薪需要协商一致，而且就算要解除合同，也应该支付经济补偿。我在公司六年，补偿应该有六个月工资。公司人事说他们有员工手册，里面写了“不服从调岗视为严重违纪”，我入职时签过字。
我先后找了公司老板两次，他都说“有本事去告”。我想请政府出面，认定公司这种做法违法，责令公司支付我六个月的经济补偿和违法解除的赔偿金。我的劳动合同、工资流水、调岗通知、解除通知我都保存着，可以随时提供。
请领导为我们普通打工者做主，谢谢！
青埠区  一名员工  138****3318''','labor',[],'help',True,Z,'long letter: unlawful dismissal compensation; labour arbitration'),
]
