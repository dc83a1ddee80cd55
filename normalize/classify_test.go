package normalize_test

import (
	"slices"
	"strings"
	"sync"
	"testing"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/normalize"
)

var (
	sharedOnce sync.Once
	shared     *normalize.Classifier
)

// classifier is the classifier of the shipped configs/ files, built once for all tests.
func classifier(t testing.TB) *normalize.Classifier {
	t.Helper()
	sharedOnce.Do(func() { shared = defaultClassifier(t) })
	return shared
}

func explain(r normalize.Result) string {
	var b strings.Builder
	b.WriteString(r.String())
	for _, e := range r.Evidence {
		b.WriteString("\n    " + e.Rule + " " + e.Term)
		if e.Ignored != "" {
			b.WriteString(" (" + e.Ignored + ")")
		}
	}
	return b.String()
}

func TestEmergencyDetected(t *testing.T) {
	tests := []struct {
		text string
		kind intake.EmergencyKind
	}{
		// fire / gas
		{"快来人！对面楼三层起火了，窗户里全是火苗", intake.EmergencyFire},
		{"厨房着火了，锅里的油烧起来了，怎么办", intake.EmergencyFire},
		{"楼道里闻到很浓的燃气味，好像谁家漏气了", intake.EmergencyFire},
		{"樓下餐廳失火了，好多人往外跑", intake.EmergencyFire},
		{"仓库那边刚刚爆炸了，好大一声", intake.EmergencyFire},
		{"现在电梯卡在两层中间，我们三个人被困电梯里出不来", intake.EmergencyFire},
		// police
		{"有人拿刀在街上追着砍人", intake.EmergencyPolice},
		{"隔壁在家暴，女的一直喊救命", intake.EmergencyPolice},
		{"抢劫啊，有人抢了我的包往地下通道跑了", intake.EmergencyPolice},
		{"有个人站在楼顶说要跳楼，现在还在边上", intake.EmergencyPolice},
		{"有个男的一路尾随我，现在还跟在后面", intake.EmergencyPolice},
		{"我老公喝多了拿着菜刀说要砍我，快来人", intake.EmergencyPolice},
		// traffic
		{"路口两辆车撞在一起了，司机被卡在里面", intake.EmergencyTraffic},
		{"一辆货车侧翻了，货撒了一地，路全堵死了", intake.EmergencyTraffic},
		{"有个小孩被车撞了，躺在地上", intake.EmergencyTraffic},
		{"电动车被大货车刮倒了，人压在底下", intake.EmergencyTraffic},
		// medical
		{"我爸突然昏迷了，怎么叫都叫不醒", intake.EmergencyMedical},
		{"有人溺水了，在河中间扑腾", intake.EmergencyMedical},
		{"老人摔倒了起不来，现在躺在楼道里", intake.EmergencyMedical},
		{"孩子误吃了一瓶药，现在口吐白沫", intake.EmergencyMedical},
		{"工地上一个工人从二楼摔下来了，头上在流血", intake.EmergencyMedical},
		// a present cue in the trigger's clause lifts a past-tense guard of the sentence
		{"上个月修过的燃气管，现在又漏气了，满屋子煤气味", intake.EmergencyFire},
		// kind priority: traffic before medical, police before medical
		{"两辆车撞了，有人流了很多血", intake.EmergencyTraffic},
		{"有人持刀伤人，地上都是血", intake.EmergencyPolice},
	}
	c := classifier(t)
	for _, tt := range tests {
		r := c.Classify(tt.text)
		if r.Emergency == nil || r.Emergency.Kind != tt.kind {
			t.Errorf("%s\n  want emergency %s, got %s", tt.text, tt.kind, explain(r))
			continue
		}
		if r.Priority() != intake.PriorityUrgent || r.RequestType != intake.RequestHelp {
			t.Errorf("%s: priority %s, request type %s; want urgent help", tt.text, r.Priority(), r.RequestType)
		}
		want := map[intake.EmergencyKind]string{"fire": "119", "police": "110", "traffic": "122", "medical": "120"}[tt.kind]
		if r.Emergency.Number != want || !strings.Contains(r.Emergency.Advice, want) {
			t.Errorf("%s: number %q advice %q, want %s", tt.text, r.Emergency.Number, r.Emergency.Advice, want)
		}
	}
}

// TestEmergencyFalseAlarmGuards: routine cases that mention danger words must not be answered
// as emergencies. Each row names the guard that must stop it.
func TestEmergencyFalseAlarmGuards(t *testing.T) {
	tests := []struct{ guard, text string }{
		{"idiom", "热水器打不着火了，燃气公司什么时候能来修"},
		{"idiom", "吵死人了，楼上天天装修"},
		{"idiom", "气死人了，现在的物业什么都不管"},
		{"idiom", "被风刮倒的大树把路挡了，车都过不去"},
		{"idiom", "我们一直被困扰，楼下天天打桩"},
		{"idiom", "嗓子疼得像着火了一样，社区医院晚上开门吗"},
		{"past", "昨天小区门口两辆车撞了，今天路面还全是玻璃渣"},
		{"past", "上个月楼下着火了，到现在楼道还是黑的，物业也不清理"},
		{"past", "去年我爸在家晕倒过一次，想问问慢性病怎么办门诊统筹"},
		{"past", "前几天晚上有人在烧烤摊打架，派出所后来也没个说法"},
		{"hypothetical", "这个路口没有红绿灯，迟早要出车祸"},
		{"hypothetical", "楼道里电线乱拉，万一起火了怎么办"},
		{"hypothetical", "燃气管道老化锈蚀，存在泄漏隐患"},
		{"hypothetical", "井盖没了，要是有人掉下去摔下来了可不得了"},
		{"negation", "刚才闻到一股焦味，下楼看了一下没有着火，是邻居在做饭"},
		{"drill", "明天上午十点小区搞消防演练，到时候会模拟着火，楼道会冒烟"},
		{"drill", "学校组织地震逃生演习，模拟有人受伤昏迷"},
		{"fee", "我妈晕倒了叫的120，结果收了八百块，这个收费合理吗"},
		{"habitual", "我们那个路口经常出车祸，建议装个红绿灯"},
		{"news", "看新闻说外地一个小区着火了，我们小区的消防栓都是坏的"},
		{"resolved", "刚才厨房着火了，已经扑灭了，想问问燃气公司能不能上门检查"},
		{"resolved", "我爸中午突然晕倒了，送到医院抢救过来了，想问问医保能报多少"},
		{"aftermath", "被车撞了，交警说对方全责，可保险公司一直不给理赔"},
		// No trigger at all: idioms and numbers that a careless rule would take for one.
		{"", "气得我火冒三丈，物业就是不给修"},
		{"", "急死了，公积金提取一个星期了还没到账"},
		{"", "这饭店的菜贵得要命"},
		{"", "这是我的救命钱，老板到现在还不发工资"},
		{"", "请问120急救车出一次车怎么收费"},
		{"", "120急救电话打不通，这个问题谁管"},
		{"", "罚款1100元，110分的题只考了60"},
		{"", "我家橘猫跑丢了，有没有人捡到"},
		{"", "🔥🔥🔥 这家店的烤肉太火了"},
	}
	c := classifier(t)
	for _, tt := range tests {
		r := c.Classify(tt.text)
		if r.Emergency != nil {
			t.Errorf("[%s] %s\n  false alarm: %s", tt.guard, tt.text, explain(r))
			continue
		}
		if tt.guard == "" {
			continue
		}
		// The row must really exercise its guard: a trigger was found and that guard stopped it.
		guarded := false
		for _, e := range r.Evidence {
			if strings.HasPrefix(e.Rule, "emergency:") && strings.HasPrefix(e.Ignored, "guard "+tt.guard+":") {
				guarded = true
			}
		}
		if !guarded {
			t.Errorf("[%s] %s: no trigger stopped by this guard; the row tests nothing: %s", tt.guard, tt.text, explain(r))
		}
	}
}

func TestCategories(t *testing.T) {
	tests := []struct{ text, category string }{
		{"村里有人露天烧垃圾，烟大得很", "environment"},         // 烧垃圾 (environment) beats 垃圾 (cityscape)
		{"学校门口天天有人摆摊卖烤肠", "cityscape"},            // 学校门口 excludes 学校
		{"電梯壞了一個禮拜，物業不管", "property"},             // traditional
		{"公基金贷款能提前还吗", "housing_fund"},            // common misspelling
		{"出租车司机不打表，一口价要五十", "transport"},          //
		{"包工头拖欠我们三个月工资", "labor"},                 //
		{"医保异地就医怎么备案", "social_security"},         //
		{"孩子明年上小学，随迁子女要什么材料", "education"},        //
		{"楼下广场舞音响开得太大，吵得睡不着", "environment"},      //
		{"从早上停电到现在，供电公司也不给个说法", "utilities"},      //
		{"小区门口的井盖丢了，晚上很危险", "urban_construction"}, //
		{"邻居家的大狗不拴绳，见人就扑", "public_security"},     //
		{"个体工商户营业执照怎么注销", "government_services"},  //
		{"开发商延期交房一年了", "real_estate"},             //
		{"健身房老板跑路了，预付卡里还有三千块", "consumer"},        //
		{"市图书馆周末几点开门", "other"},                   //
		{"你好，在吗", "other"},                        // nothing matched
		{"喂？是燃气公司吗？哦，打错了", "other"},               // no_request beats 燃气
		{"有个人在公交站晕倒了，怎么叫都没反应", "health"},          // medical emergency bonus beats the place
	}
	c := classifier(t)
	for _, tt := range tests {
		r := c.Classify(tt.text)
		if r.Category != tt.category {
			t.Errorf("%s\n  want %s, got %s", tt.text, tt.category, explain(r))
		}
		if r.Confidence < 0 || r.Confidence > 1 {
			t.Errorf("%s: confidence %v out of [0,1]", tt.text, r.Confidence)
		}
	}
}

func TestRequestTypes(t *testing.T) {
	tests := []struct {
		text string
		want intake.RequestType
	}{
		{"请问在商场买到假货应该找哪个部门投诉", intake.RequestConsult}, // 哪个部门投诉 contains 投诉
		{"我要投诉这家店卖假货", intake.RequestComplaint},
		{"举报有人在河边偷排污水", intake.RequestReport},
		{"建议公交站多装几个遮雨棚", intake.RequestSuggestion},
		{"表扬一下热力公司的维修师傅", intake.RequestPraise},
		{"家里停水两天了，求求你们帮帮忙", intake.RequestHelp},
		{"楼下的路灯坏了一个月了", intake.RequestComplaint}, // a matter without a cue: default
		{"你好", intake.RequestOther},              // nothing at all
		{"我上周反映的问题还没人联系我，工单号WH20261120000457，麻烦催一下", intake.RequestOther},
		{"好的收到，谢谢你们的回复", intake.RequestOther},
		{"喂？是燃气公司吗？哦，打错了", intake.RequestOther},
		{"咱这公积金咋提取啊", intake.RequestConsult}, // dialect
	}
	c := classifier(t)
	for _, tt := range tests {
		if r := c.Classify(tt.text); r.RequestType != tt.want {
			t.Errorf("%s\n  want %s, got %s", tt.text, tt.want, explain(r))
		}
	}
}

func TestOutOfScope(t *testing.T) {
	// rule: the out_of_scope.yaml rule that decides; kind: the referrals.yaml kind it names.
	tests := []struct{ text, rule, kind, referral string }{
		{"我已经起诉开发商了，法院已立案，想让12345催一下开庭", "litigation", "in_proceedings", "法院/仲裁机构/信访部门"},
		{"劳动仲裁已经申请了，现在仲裁中，公司又停了我的社保", "litigation", "in_proceedings", "法院/仲裁机构/信访部门"},
		{"我要投诉执行法官不作为", "judicial", "court", "人民法院/12368"},
		{"附近部队营区晚上打靶，声音太大", "military", "military", "部队/当地人武部"},
		{"我们村党委书记把低保名额给了亲戚", "party_congress", "discipline", "纪检监察机关/12388"},
		{"我发现有人在网上卖国家机密文件", "secrets", "state_security", "国家安全机关/12339"},
		{"我在烟台市买的房子开发商不给办证", "other_jurisdiction", "other_city", "事发地12345"},
		// in scope
		{"想起诉拖欠工资的老板，需要什么材料", "", "", ""},
		{"退役军人优待证在哪里办", "", "", ""},
		{"我是烟台市户口，在这边上班，公积金怎么转过来", "", "", ""},
		{"我在烟台市工作，现在住在经区，小区物业不给修电梯", "", "", ""},
		{"还没起诉，想先找12345协调一下", "", "", ""},
	}
	c := classifier(t)
	referrals := c.Rules().Referrals
	for _, tt := range tests {
		r := c.Classify(tt.text)
		if r.OutOfScope != (tt.kind != "") || r.OutOfScopeCode != tt.kind || r.Referral != tt.referral {
			t.Errorf("%s\n  want out-of-scope %q (%s), got %s referral %q", tt.text, tt.kind, tt.referral, explain(r), r.Referral)
			continue
		}
		if !r.OutOfScope {
			continue
		}
		kind, _ := referrals.Kind(tt.kind)
		if r.OutOfScopeReason != kind.Reply || r.OutOfScopeSource != "rule" || !slices.Contains(r.MatchedTerms, firstTerm(r, "out_of_scope:"+tt.rule)) {
			t.Errorf("%s: reason %q (want the kind's reply), source %q, terms %v", tt.text, r.OutOfScopeReason, r.OutOfScopeSource, r.MatchedTerms)
		}
	}
}

func firstTerm(r normalize.Result, rule string) string {
	for _, e := range r.Evidence {
		if e.Rule == rule && e.Ignored == "" {
			return e.Term
		}
	}
	return ""
}

func TestDistrict(t *testing.T) {
	tests := []struct{ text, want string }{
		{"环翠区青槐街水果店不给退货", "环翠区"},
		{"文登的御景湾工地晚上打桩", "文登区"},
		{"經區翠園小區電梯壞了", "经区"},
		{"火炬高技术产业开发区田和街道路灯不亮", "高区"},
		{"临港经济技术开发区汪疃镇停电", "临港区"}, // not 经区 inside it
		{"高区和经区交界的路口", "高区"},      // the first named
		{"这两件事我已经区分不清了", ""},      // 已经区 is not 经区
		{"临港大道上有个大坑", ""},         // in two districts: left out
		{"荣成石岛的海鲜市场缺斤少两", "荣成市"},
		{"", ""},
	}
	c := classifier(t)
	for _, tt := range tests {
		if r := c.Classify(tt.text); r.District != tt.want {
			t.Errorf("%s\n  want district %q, got %s", tt.text, tt.want, explain(r))
		}
	}
}

func TestResultExplains(t *testing.T) {
	c := classifier(t)
	r := c.Classify("市民来电举报：村里化工厂夜间偷排废水，河里死鱼一片。")
	if r.Category != "environment" || r.RequestType != intake.RequestReport {
		t.Fatalf("got %s", explain(r))
	}
	for _, want := range []string{"偷排", "废水", "来电举报"} {
		if !slices.Contains(r.MatchedTerms, want) {
			t.Errorf("MatchedTerms %v lack %q", r.MatchedTerms, want)
		}
	}
	if r.CategoryName != "生态环境" || r.Confidence < 0.5 {
		t.Errorf("name %q confidence %v", r.CategoryName, r.Confidence)
	}
	cl := r.Classification()
	if cl.Category != r.Category || cl.RequestType != r.RequestType || cl.Source != "auto" || len(cl.MatchedTerms) != len(r.MatchedTerms) {
		t.Errorf("Classification() = %+v", cl)
	}
	if r.Priority() != intake.PriorityNormal {
		t.Errorf("priority %s", r.Priority())
	}
	// A phrase found inside a longer one is in the evidence, marked, and does not count.
	r = c.Classify("村里有人露天烧垃圾")
	found := false
	for _, e := range r.Evidence {
		if e.Term == "垃圾" && strings.HasPrefix(e.Ignored, "inside") {
			found = true
		}
	}
	if !found || slices.Contains(r.MatchedTerms, "垃圾") {
		t.Errorf("垃圾 inside 烧垃圾 should be evidence but not a matched term: %s", explain(r))
	}
}

func TestExplain(t *testing.T) {
	var b strings.Builder
	r := classifier(t).Classify("楼道电动车着火了！！快来人，经区翠园小区")
	if err := r.Explain(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"EMERGENCY     fire, call 119", "advice: ", "district      经区", "emergency:fire", "着火"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Explain lacks %q:\n%s", want, b.String())
		}
	}
}

func TestLowConfidenceFallsBack(t *testing.T) {
	c := classifier(t)
	// One weak phrase (小区, weight 1) is not enough for a category.
	r := c.Classify("我们小区")
	if r.Category != "other" || r.Confidence != 0 {
		t.Errorf("got %s", explain(r))
	}
	if r.Scores["property"] == 0 {
		t.Errorf("the weak evidence should still be scored: %v", r.Scores)
	}
}

func TestClassifyConcurrent(t *testing.T) {
	c := classifier(t)
	want := c.Classify("楼道电动车着火了！！快来人").String()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if got := c.Classify("楼道电动车着火了！！快来人").String(); got != want {
					t.Errorf("concurrent result %q, want %q", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}
