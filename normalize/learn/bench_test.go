package learn_test

import (
	"testing"

	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/normalize/learn"
)

// benchMessages are short folded messages of the kind most submissions are.
var benchMessages = []string{
	"燃气费怎么突然这么高?这个月三百多,平时也就一百出头,家里也没多用啊 是不是表有问题,在哪儿能申请校表?",
	"楼道电动车着火了!!烟太大了楼上的人下不来,金海湾花园11号楼一单元,物业电话打不通,快来人",
	"建议今年供暖提前到11月1号开始吧,最近降温太厉害了,家里老人孩子都冻感冒了",
	"请问120急救车出一次车怎么收费?是按公里算吗?上回拉我爸去医院收了两百多,想问问标准",
	"你好,在吗?有个事想反映一下",
}

// BenchmarkPredictShipped is the model's share of a classification with the shipped model: the
// features of a short message and the heads every text needs (emergency, out of scope, request
// type, category), evidence for one of them.
func BenchmarkPredictShipped(b *testing.B) {
	m, err := learn.Decode(configs.Model)
	if err != nil {
		b.Fatal(err)
	}
	hints := []string{"rule.local"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p := m.Predict(benchMessages[i%len(benchMessages)], hints, "emergency", "out_of_scope", "request_type", "category")
		p.Best("category")
		p.Top("category", "utilities", 5)
		p.Release()
		i++
	}
}
