package learn

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// syntheticModel is a model of the production shape (the heads normalize trains) with n random
// n-gram features drawn from common characters, for measuring how prediction cost grows with
// the model.
func syntheticModel(n int) *Model {
	heads := []Head{
		{Name: "category", Classes: make([]string, 16)}, {Name: "request_type", Classes: make([]string, 7)},
		{Name: "emergency", Classes: []string{"none", "emergency"}, Threshold: 0.3}, {Name: "emergency_kind", Classes: make([]string, 4)},
		{Name: "out_of_scope", Classes: []string{"in", "out"}, Threshold: 0.3}, {Name: "referral", Classes: make([]string, 12)},
	}
	for i := range heads {
		for j := range heads[i].Classes {
			if heads[i].Classes[j] == "" {
				heads[i].Classes[j] = fmt.Sprint(j)
			}
		}
	}
	pool := []rune(benchPool)
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	seen := map[uint64]bool{}
	m := &Model{heads: heads}
	for len(m.keys) < n {
		r := func() rune { return pool[rng.IntN(len(pool))] }
		var k uint64
		switch rng.IntN(3) {
		case 0:
			k = gramKey(0, 0, r())
		case 1:
			k = gramKey(0, r(), r())
		default:
			k = gramKey(r(), r(), r())
		}
		if rng.IntN(2) == 0 {
			k |= requestBit
		}
		if !seen[k] {
			seen[k] = true
			m.keys = append(m.keys, k)
		}
	}
	if err := m.build(); err != nil {
		panic(err)
	}
	m.w = make([]float32, len(m.keys)*m.width)
	for i := range m.w {
		m.w[i] = float32(rng.IntN(2001) - 1000)
	}
	m.step, m.bias = make([]float32, m.width), make([]float32, m.width)
	for i := range m.step {
		m.step[i] = 1e-3
	}
	m.buildJoint()
	return m
}

const benchPool = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"

var (
	benchShort = "楼道电动车着火了!!烟太大了楼上的人下不来,金海湾花园11号楼一单元,物业电话打不通,快来人"
	benchLong  = strings.Repeat("市长您好,我是北塘区康乐小区的一名住户,小区建于2000年左右,没有集中充电的地方,居民把电动车推进楼道充电。我跟物业说过很多次,物业贴了通知,可是没用。建议由街道和物业牵头建设集中充电棚。", 5)
)

// BenchmarkPredict shows the cost of one prediction (features of both blocks, scores of every
// head) on a short message and on a long letter, as the model grows: look-ups are hash-map hits,
// so the cost depends on the text, not on the number of features.
func BenchmarkPredict(b *testing.B) {
	for _, n := range []int{30_000, 120_000, 480_000} {
		m := syntheticModel(n)
		for name, text := range map[string]string{"short": benchShort, "long": benchLong} {
			b.Run(fmt.Sprintf("features=%d/%s", n, name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					m.Predict(text, nil, "emergency", "out_of_scope", "request_type", "category").Release()
				}
			})
		}
	}
}
