package console

import intake "github.com/hotline12345/intake-gateway"

// The console speaks to the hotline's staff in Chinese; codes stay the canonical record's.
var (
	channelNames = map[intake.ChannelKind]string{
		intake.ChannelPhone: "电话", intake.ChannelWeChat: "微信", intake.ChannelSMS: "短信",
		intake.ChannelWeibo: "微博", intake.ChannelREST: "接口", "open311": "Open311",
	}
	requestTypeNames = map[intake.RequestType]string{
		intake.RequestConsult: "咨询", intake.RequestHelp: "求助", intake.RequestComplaint: "投诉", intake.RequestReport: "举报",
		intake.RequestSuggestion: "建议", intake.RequestPraise: "表扬", intake.RequestOther: "其他",
	}
	statusNames = map[intake.Status]string{
		intake.StatusReceived: "已接收", intake.StatusForwarded: "已转办", intake.StatusAccepted: "已受理",
		intake.StatusAssigned: "已派单", intake.StatusResolved: "已办结", intake.StatusClosed: "已关闭", intake.StatusRejected: "已退回",
	}
	eventNames = map[string]string{
		"received": "登记", "forwarded": "转办", "accepted": "受理", "assigned": "派单", "progress": "办理进展",
		"resolved": "办结", "closed": "关闭", "rejected": "退回", "reopened": "重新办理", "feedback": "满意度回访",
	}
	ratingNames    = map[string]string{"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}
	emergencyNames = map[intake.EmergencyKind]string{
		intake.EmergencyPolice: "报警 110", intake.EmergencyFire: "火警 119", intake.EmergencyMedical: "急救 120", intake.EmergencyTraffic: "交通事故 122",
	}
	deliveryStateNames = map[intake.DeliveryState]string{
		intake.DeliveryQueued: "排队中", intake.DeliveryDelivered: "已送达", intake.DeliveryFailed: "失败待重试", intake.DeliveryDead: "已放弃",
	}
	notificationStateNames = map[string]string{"queued": "排队中", "sent": "已发送", "delivered": "已送达", "failed": "失败"}
	auditActionNames       = map[string]string{
		intake.AuditLogin: "登录", intake.AuditLoginFailed: "登录失败", intake.AuditLogout: "退出", intake.AuditReveal: "查看个人信息",
		intake.AuditCorrection: "更正分类", intake.AuditUserAdd: "新增用户", intake.AuditUserChange: "修改用户", intake.AuditDeliveryRetry: "重新转办",
	}
	// channelColors are the chart's colours, one per channel in channelOrder.
	channelOrder  = []intake.ChannelKind{intake.ChannelPhone, intake.ChannelWeChat, intake.ChannelSMS, intake.ChannelWeibo, intake.ChannelREST, "open311"}
	channelColors = []string{"#486581", "#2f8132", "#c99a2e", "#b3261e", "#7b5ea7", "#3e7cb1"}
)

func nameOr[K ~string](m map[K]string, k K) string {
	if n, ok := m[k]; ok {
		return n
	}
	return string(k)
}
