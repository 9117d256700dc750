package scenario

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// A host's models: a directory of model files in the layout
// transformers' save_pretrained writes (config.json, generation_config.json,
// model-0000N-of-0000M.safetensors shards with model.safetensors.index.json,
// tokenizer files). The scenario gives the model's config.json as a
// mapping; the tensors, their shards and the shards' sizes follow from it,
// so that the parameter count, the dtype, the index's total_size and the
// sizes ls shows all agree. Shards are declared files (size and checksum,
// never bytes); the small JSON files are real content.

// The model types whose tensor layout modelFiles knows.
var modelTypes = []string{"llama", "mistral", "qwen2"}

// DefaultMaxShardSize is save_pretrained's default max_shard_size (5GB).
const DefaultMaxShardSize int64 = 5_000_000_000

// modelWriteRate is how fast the model's files were written when it was
// saved, in bytes per second; it spaces the files' mtimes.
const modelWriteRate = 850_000_000

// modelShape is what the tensor layout needs of a config.json.
type modelShape struct {
	modelType                           string
	hidden, intermediate, layers, vocab int64
	heads, kvHeads, headDim             int64
	tied, bias                          bool
	dtype                               string // safetensors dtype: BF16, F16, F32
	width                               int64  // bytes per element
	bos, eos                            any
	transformers                        string
	maxPositions                        int64
}

// tensor is one named tensor of a checkpoint.
type tensor struct {
	name  string
	shape []int64
}

func (t tensor) elems() int64 {
	n := int64(1)
	for _, d := range t.shape {
		n *= d
	}
	return n
}

// decodeModels reads a host's models list into files.
func decodeModels(w *walker, ho *object, start time.Time) []world.File {
	var files []world.File
	ho.seq("models", func(i int, n *yaml.Node, p string) {
		mo := w.object(n, p, "dir", "config", "generation", "max_shard_size", "tokenizer", "mtime", "owner", "mode", "checksums", "when")
		inc := w.when(mo, "when")
		dir := mo.reqStr("dir")
		switch {
		case dir == "":
		case !strings.HasPrefix(dir, "/") || path.Clean(dir) != dir || dir == "/":
			w.failAt(p+".dir", "must be a clean absolute directory path such as /models/atlas")
			dir = ""
		}
		var cfg map[string]any
		if mo.require("config") {
			if err := mo.node("config").Decode(&cfg); err != nil || cfg == nil {
				w.failAt(p+".config", "must be a mapping (the model's config.json)")
			}
		}
		shape, why := shapeOf(cfg)
		if cfg != nil && why != "" {
			w.failAt(p+".config", "%s", why)
		}
		var gen map[string]any
		if n := mo.node("generation"); n != nil {
			if err := n.Decode(&gen); err != nil || gen == nil {
				w.failAt(p+".generation", "must be a mapping (the model's generation_config.json)")
			}
		}
		maxShard := DefaultMaxShardSize
		if sz, ok := mo.size("max_shard_size"); ok {
			if sz <= 0 {
				w.failAt(p+".max_shard_size", "must be positive")
			} else {
				maxShard = sz
			}
		}
		tok := tokenizerSpec{size: 9_085_657, bos: "<|begin_of_text|>", eos: "<|end_of_text|>"}
		if n := mo.node("tokenizer"); n != nil {
			to := w.object(n, p+".tokenizer", "size", "bos", "eos")
			if sz, ok := to.size("size"); ok && sz > 0 {
				tok.size = sz
			}
			if s := to.str("bos"); s != "" {
				tok.bos = s
			}
			if s := to.str("eos"); s != "" {
				tok.eos = s
			}
		}
		mtime, _ := mo.timestamp("mtime", true, start)
		if mtime.IsZero() {
			mtime = start
		}
		opt := modelFileOpts{owner: mo.str("owner"), mode: mo.mode("mode"), mtime: mtime, checksums: mo.str("checksums")}
		if opt.checksums != "" && strings.Contains(opt.checksums, "/") {
			w.failAt(p+".checksums", "must be a file name in the model's directory, such as SHA256SUMS")
			opt.checksums = ""
		}
		if !inc || dir == "" || why != "" || cfg == nil {
			return
		}
		files = append(files, modelFiles(dir, cfg, gen, shape, maxShard, tok, opt)...)
	})
	return files
}

type tokenizerSpec struct {
	size     int64
	bos, eos string
}

type modelFileOpts struct {
	owner     string
	mode      uint32
	mtime     time.Time
	checksums string
}

// shapeOf reads the tensor layout from a config.json mapping, or says what
// is missing.
func shapeOf(cfg map[string]any) (modelShape, string) {
	var s modelShape
	if cfg == nil {
		return s, "is missing"
	}
	s.modelType, _ = cfg["model_type"].(string)
	if !slices.Contains(modelTypes, s.modelType) {
		return s, fmt.Sprintf("model_type must be one of %s (got %v)", strings.Join(modelTypes, ", "), cfg["model_type"])
	}
	num := func(key string, need bool) (int64, string) {
		v, ok := cfg[key]
		if !ok {
			if need {
				return 0, "needs " + key
			}
			return 0, ""
		}
		n, ok := v.(int)
		if !ok || n <= 0 {
			return 0, key + " must be a positive whole number"
		}
		return int64(n), ""
	}
	var why string
	for _, f := range []struct {
		key  string
		dst  *int64
		need bool
	}{
		{"hidden_size", &s.hidden, true}, {"intermediate_size", &s.intermediate, true},
		{"num_hidden_layers", &s.layers, true}, {"vocab_size", &s.vocab, true},
		{"num_attention_heads", &s.heads, true}, {"num_key_value_heads", &s.kvHeads, false},
		{"head_dim", &s.headDim, false}, {"max_position_embeddings", &s.maxPositions, false},
	} {
		if *f.dst, why = num(f.key, f.need); why != "" {
			return s, why
		}
	}
	if s.kvHeads == 0 {
		s.kvHeads = s.heads
	}
	if s.headDim == 0 {
		if s.hidden%s.heads != 0 {
			return s, "hidden_size must be a multiple of num_attention_heads (or give head_dim)"
		}
		s.headDim = s.hidden / s.heads
	}
	if s.heads%s.kvHeads != 0 {
		return s, "num_attention_heads must be a multiple of num_key_value_heads"
	}
	s.tied, _ = cfg["tie_word_embeddings"].(bool)
	s.bias, _ = cfg["attention_bias"].(bool)
	if s.modelType == "qwen2" {
		s.bias = true // Qwen2 attention always has q, k and v biases
	}
	dtype, _ := cfg["torch_dtype"].(string)
	switch dtype {
	case "bfloat16":
		s.dtype, s.width = "BF16", 2
	case "float16":
		s.dtype, s.width = "F16", 2
	case "float32":
		s.dtype, s.width = "F32", 4
	default:
		return s, fmt.Sprintf("torch_dtype must be bfloat16, float16 or float32 (got %v)", cfg["torch_dtype"])
	}
	s.bos, s.eos = cfg["bos_token_id"], cfg["eos_token_id"]
	s.transformers, _ = cfg["transformers_version"].(string)
	return s, ""
}

// tensors lists the checkpoint's tensors in state-dict order, the order
// save_pretrained fills shards in.
func (s modelShape) tensors() []tensor {
	h, q, kv := s.hidden, s.heads*s.headDim, s.kvHeads*s.headDim
	out := []tensor{{"model.embed_tokens.weight", []int64{s.vocab, h}}}
	for l := int64(0); l < s.layers; l++ {
		pre := "model.layers." + strconv.FormatInt(l, 10) + "."
		proj := func(name string, rows, cols int64) {
			out = append(out, tensor{pre + name + ".weight", []int64{rows, cols}})
			if s.bias && name != "self_attn.o_proj" && strings.HasPrefix(name, "self_attn.") {
				out = append(out, tensor{pre + name + ".bias", []int64{rows}})
			}
		}
		proj("self_attn.q_proj", q, h)
		proj("self_attn.k_proj", kv, h)
		proj("self_attn.v_proj", kv, h)
		proj("self_attn.o_proj", h, q)
		proj("mlp.gate_proj", s.intermediate, h)
		proj("mlp.up_proj", s.intermediate, h)
		proj("mlp.down_proj", h, s.intermediate)
		out = append(out, tensor{pre + "input_layernorm.weight", []int64{h}},
			tensor{pre + "post_attention_layernorm.weight", []int64{h}})
	}
	out = append(out, tensor{"model.norm.weight", []int64{h}})
	if !s.tied {
		out = append(out, tensor{"lm_head.weight", []int64{s.vocab, h}})
	}
	return out
}

// params is the model's parameter count.
func (s modelShape) params() int64 {
	var n int64
	for _, t := range s.tensors() {
		n += t.elems()
	}
	return n
}

// shard is one safetensors file of a checkpoint.
type shard struct {
	tensors []tensor
	data    int64 // bytes of tensor data
}

// shardTensors fills shards in order, starting a new one when the next
// tensor would take the current one past max (save_pretrained's rule).
func shardTensors(ts []tensor, width, max int64) []shard {
	var out []shard
	for _, t := range ts {
		n := t.elems() * width
		if len(out) == 0 || (out[len(out)-1].data+n > max && len(out[len(out)-1].tensors) > 0) {
			out = append(out, shard{})
		}
		sh := &out[len(out)-1]
		sh.tensors = append(sh.tensors, t)
		sh.data += n
	}
	return out
}

// fileSize is the size of the shard's safetensors file: an 8-byte header
// length, the JSON header (tensors by name, offsets into the data,
// padded with spaces to a multiple of 8) and the data.
func (sh shard) fileSize(dtype string, width int64) int64 {
	ts := slices.Clone(sh.tensors)
	sort.Slice(ts, func(i, j int) bool { return ts[i].name < ts[j].name })
	var b strings.Builder
	b.WriteString(`{"__metadata__":{"format":"pt"}`)
	var off int64
	for _, t := range ts {
		end := off + t.elems()*width
		dims := make([]string, len(t.shape))
		for i, d := range t.shape {
			dims[i] = strconv.FormatInt(d, 10)
		}
		fmt.Fprintf(&b, `,%q:{"dtype":%q,"shape":[%s],"data_offsets":[%d,%d]}`, t.name, dtype, strings.Join(dims, ","), off, end)
		off = end
	}
	b.WriteString("}")
	header := int64(b.Len())
	header += (8 - header%8) % 8
	return 8 + header + sh.data
}

// declaredSHA is the checksum a model's declared file shows: fixed by the
// file's place and size, so every run of the scenario shows the same one.
func declaredSHA(p string, size int64) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "terrarium-model\x00%s\x00%d", p, size))
	return hex.EncodeToString(sum[:])
}

// modelFiles lays out one model directory.
func modelFiles(dir string, cfg, gen map[string]any, s modelShape, maxShard int64, tok tokenizerSpec, opt modelFileOpts) []world.File {
	shards := shardTensors(s.tensors(), s.width, maxShard)
	names := make([]string, len(shards))
	weightMap := map[string]any{}
	var total int64
	for i, sh := range shards {
		names[i] = fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, len(shards))
		for _, t := range sh.tensors {
			weightMap[t.name] = names[i]
		}
		total += sh.data
	}
	if gen == nil {
		gen = map[string]any{"do_sample": true, "temperature": 0.6, "top_p": 0.9}
		if s.bos != nil {
			gen["bos_token_id"] = s.bos
		}
		if s.eos != nil {
			gen["eos_token_id"] = s.eos
		}
		if s.transformers != "" {
			gen["transformers_version"] = s.transformers
		}
	}
	maxLen := s.maxPositions
	if maxLen == 0 {
		maxLen = 131072
	}
	tokCfg := map[string]any{
		"bos_token": tok.bos, "eos_token": tok.eos, "clean_up_tokenization_spaces": true,
		"model_input_names": []any{"input_ids", "attention_mask"}, "model_max_length": maxLen,
		"tokenizer_class": "PreTrainedTokenizerFast",
	}
	special := map[string]any{"bos_token": tok.bos, "eos_token": tok.eos}
	index := map[string]any{"metadata": map[string]any{"total_size": total}, "weight_map": weightMap}

	var files []world.File
	at := opt.mtime
	add := func(name string, f world.File) {
		f.Path = dir + "/" + name
		f.Owner, f.Mode = opt.owner, opt.mode
		size := f.Size
		if f.Content != "" {
			size = int64(len(f.Content))
		}
		at = at.Add(time.Duration(math.Ceil(float64(size)/modelWriteRate*1e3)) * time.Millisecond)
		f.ModTime = at.Truncate(time.Millisecond)
		files = append(files, f)
	}
	add("config.json", world.File{Content: pyJSON(cfg)})
	add("generation_config.json", world.File{Content: pyJSON(gen)})
	for i, sh := range shards {
		size := sh.fileSize(s.dtype, s.width)
		add(names[i], world.File{Size: size, SHA256: declaredSHA(dir+"/"+names[i], size)})
	}
	add("model.safetensors.index.json", world.File{Content: pyJSON(index)})
	add("special_tokens_map.json", world.File{Content: pyJSON(special)})
	add("tokenizer.json", world.File{Size: tok.size, SHA256: declaredSHA(dir+"/tokenizer.json", tok.size)})
	add("tokenizer_config.json", world.File{Content: pyJSON(tokCfg)})
	if opt.checksums != "" {
		var b strings.Builder
		byName := slices.Clone(files)
		sort.Slice(byName, func(i, j int) bool { return byName[i].Path < byName[j].Path })
		for _, f := range byName {
			sha := f.SHA256
			if f.Content != "" {
				sum := sha256.Sum256([]byte(f.Content))
				sha = hex.EncodeToString(sum[:])
			}
			fmt.Fprintf(&b, "%s  %s\n", sha, path.Base(f.Path))
		}
		add(opt.checksums, world.File{Content: b.String()})
	}
	return files
}

// pyJSON writes v as Python's json.dumps(v, indent=2, sort_keys=True)
// does, with a final newline: the form transformers saves its JSON files
// in (floats keep a decimal point, 1e-05 keeps its exponent).
func pyJSON(v any) string {
	var b strings.Builder
	writePyJSON(&b, v, "")
	b.WriteString("\n")
	return b.String()
}

func writePyJSON(b *strings.Builder, v any, indent string) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		switch {
		case x == math.Trunc(x) && math.Abs(x) < 1e16:
			b.WriteString(strconv.FormatFloat(x, 'f', -1, 64) + ".0")
		default:
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
	case string:
		b.WriteString(jsonString(x))
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, e := range x {
			b.WriteString(indent + "  ")
			writePyJSON(b, e, indent+"  ")
			if i < len(x)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString(indent + "]")
	case map[string]any:
		if len(x) == 0 {
			b.WriteString("{}")
			return
		}
		keys := slices.Sorted(maps.Keys(x))
		b.WriteString("{\n")
		for i, k := range keys {
			b.WriteString(indent + "  " + jsonString(k) + ": ")
			writePyJSON(b, x[k], indent+"  ")
			if i < len(keys)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString(indent + "}")
	default:
		b.WriteString(jsonString(fmt.Sprint(x)))
	}
}

// jsonString is s as a JSON string, without HTML escapes.
func jsonString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}
