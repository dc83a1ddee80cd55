package learn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
)

// The model file: a magic string and format version, a JSON header (how the model was trained,
// its heads and sizes), the n-gram keys (ascending, as varint deltas), the hint names, each
// column's step and bias (float32), the weights (int16, row by row), and a CRC-32 of all that
// precedes it. Everything is little-endian. A file that is cut short or altered is rejected
// whole, so a broken file can never replace a working model.
const (
	magic         = "IGLM"
	formatVersion = 1
)

type header struct {
	Info  Info `json:"info"`
	Keys  int  `json:"keys"`
	Hints int  `json:"hints"`
}

// Encode returns the model file.
func (m *Model) Encode() []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	b.Write(binary.LittleEndian.AppendUint16(nil, formatVersion))
	info := m.info
	info.Heads = m.Heads()
	hdr, err := json.Marshal(header{Info: info, Keys: len(m.keys), Hints: len(m.names)})
	if err != nil {
		panic(err) // plain structs of strings and numbers always marshal
	}
	b.Write(binary.AppendUvarint(nil, uint64(len(hdr))))
	b.Write(hdr)
	prev := uint64(0)
	for _, k := range m.keys {
		b.Write(binary.AppendUvarint(nil, k-prev))
		prev = k
	}
	for _, s := range m.names {
		b.Write(binary.AppendUvarint(nil, uint64(len(s))))
		b.WriteString(s)
	}
	for _, f := range m.step {
		b.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(f)))
	}
	for _, f := range m.bias {
		b.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(f)))
	}
	buf := make([]byte, 2*len(m.w))
	for i, w := range m.w {
		binary.LittleEndian.PutUint16(buf[2*i:], uint16(int16(w)))
	}
	b.Write(buf)
	b.Write(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(b.Bytes())))
	return b.Bytes()
}

// Decode reads a model file written by Encode.
func Decode(data []byte) (*Model, error) {
	if len(data) < len(magic)+2+4 || string(data[:len(magic)]) != magic {
		return nil, errors.New("model: not a model file")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errors.New("model: checksum mismatch (file damaged or cut short)")
	}
	r := &reader{b: body[len(magic):]}
	if v := r.uint16(); v != formatVersion {
		return nil, fmt.Errorf("model: format version %d, this gateway reads %d", v, formatVersion)
	}
	var hdr header
	if err := json.Unmarshal(r.bytes(int(r.uvarint())), &hdr); r.err == nil && err != nil {
		return nil, fmt.Errorf("model: header: %w", err)
	}
	if r.err != nil {
		return nil, r.err
	}
	m := &Model{heads: hdr.Info.Heads, info: hdr.Info}
	for _, h := range m.heads {
		if h.Name == "" || len(h.Classes) < 2 {
			return nil, fmt.Errorf("model: head %q: needs a name and two classes", h.Name)
		}
	}
	if hdr.Keys < 0 || hdr.Hints < 0 || hdr.Keys+hdr.Hints > len(body) {
		return nil, errors.New("model: bad feature counts")
	}
	m.keys = make([]uint64, hdr.Keys)
	prev := uint64(0)
	for i := range m.keys {
		prev += r.uvarint()
		m.keys[i] = prev
	}
	m.names = make([]string, hdr.Hints)
	for i := range m.names {
		m.names[i] = string(r.bytes(int(r.uvarint())))
	}
	if r.err != nil {
		return nil, r.err
	}
	if err := m.build(); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	m.step, m.bias = r.float32s(m.width), r.float32s(m.width)
	rows := len(m.keys) + len(m.names)
	raw := r.bytes(2 * rows * m.width)
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("model: %d bytes after the weights", len(r.b))
	}
	m.w = make([]float32, rows*m.width)
	for i := range m.w {
		m.w[i] = float32(int16(binary.LittleEndian.Uint16(raw[2*i:])))
	}
	m.buildJoint()
	return m, nil
}

// reader reads the model file; after the first error every read returns zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errors.New("model: file cut short")
	}
	r.b = nil
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.fail()
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) uint16() uint16 {
	b := r.bytes(2)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) float32s(n int) []float32 {
	b := r.bytes(4 * n)
	out := make([]float32, n)
	if b == nil {
		return out
	}
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}
