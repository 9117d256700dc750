package scenario

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/terrarium-evals/terrarium/tools/world"
)

// checkModelDir checks one rendered model directory: n shards named as
// save_pretrained names them, declared with checksums; an index whose
// weight_map names only those shards and whose total_size is the config's
// parameter count times the dtype's width; shard files a header larger
// than their share of the data; and the small files as real JSON.
func checkModelDir(t *testing.T, h *world.Host, dir string, n int) {
	t.Helper()
	byName := map[string]*world.File{}
	for i := range h.Files {
		if path.Dir(h.Files[i].Path) == dir {
			byName[path.Base(h.Files[i].Path)] = &h.Files[i]
		}
	}
	var cfg map[string]any
	var index struct {
		Metadata struct {
			TotalSize int64 `json:"total_size"`
		} `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}
	for name, v := range map[string]any{"config.json": &cfg, "model.safetensors.index.json": &index, "generation_config.json": new(map[string]any),
		"tokenizer_config.json": new(map[string]any), "special_tokens_map.json": new(map[string]any)} {
		f := byName[name]
		if f == nil || f.Content == "" {
			t.Fatalf("%s/%s missing or empty: %+v", dir, name, f)
		}
		if err := json.Unmarshal([]byte(f.Content), v); err != nil {
			t.Fatalf("%s/%s: %v", dir, name, err)
		}
	}
	if tok := byName["tokenizer.json"]; tok == nil || tok.Size < 1e6 || tok.Content != "" {
		t.Errorf("%s/tokenizer.json: %+v", dir, tok)
	}
	shape, why := shapeOf(yamlish(cfg))
	if why != "" {
		t.Fatalf("%s config.json: %s", dir, why)
	}
	if want := shape.params() * shape.width; index.Metadata.TotalSize != want {
		t.Errorf("%s: index total_size %d, want %d (%d params × %d bytes)", dir, index.Metadata.TotalSize, want, shape.params(), shape.width)
	}
	var shards []string
	var sum int64
	for name, f := range byName {
		if !strings.HasSuffix(name, ".safetensors") {
			continue
		}
		shards = append(shards, name)
		sum += f.Size
		if f.Content != "" || f.Size < 1e9 || len(f.SHA256) != 64 {
			t.Errorf("%s/%s: not a declared shard with a checksum: size %d sha %q", dir, name, f.Size, f.SHA256)
		}
		if f.Size%1_000_000 == 0 {
			t.Errorf("%s/%s: a round size, %d", dir, name, f.Size)
		}
	}
	slices.Sort(shards)
	if len(shards) != n {
		t.Fatalf("%s: %d shards, want %d", dir, len(shards), n)
	}
	for i, name := range shards {
		if want := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, n); name != want {
			t.Errorf("%s: shard %d is %s, want %s", dir, i, name, want)
		}
	}
	if sum <= index.Metadata.TotalSize || sum > index.Metadata.TotalSize+int64(n)<<20 {
		t.Errorf("%s: shards hold %d bytes for %d bytes of tensors", dir, sum, index.Metadata.TotalSize)
	}
	used := map[string]bool{}
	for _, f := range index.WeightMap {
		used[f] = true
	}
	if len(used) != n || !used[shards[0]] || !used[shards[n-1]] {
		t.Errorf("%s: the weight map names %d shards", dir, len(used))
	}
	if len(index.WeightMap) != len(shape.tensors()) {
		t.Errorf("%s: the weight map has %d tensors, the config %d", dir, len(index.WeightMap), len(shape.tensors()))
	}
}

// yamlish turns JSON numbers back into the types YAML decoding gives, so
// shapeOf reads a config.json as written.
func yamlish(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if f, ok := v.(float64); ok && f == float64(int(f)) && !strings.Contains(fmt.Sprint(m[k]), ".") {
			v = int(f)
		}
		out[k] = v
	}
	return out
}

// The Llama layout of a 70B model in bf16 comes to the sizes its
// published checkpoint has: 30 shards of 5 GB at most, the first one
// 4,584,408,808 bytes, 141,107,412,992 bytes of tensors.
func TestModelLayoutLlama70B(t *testing.T) {
	cfg := map[string]any{"model_type": "llama", "hidden_size": 8192, "intermediate_size": 28672, "num_hidden_layers": 80,
		"num_attention_heads": 64, "num_key_value_heads": 8, "vocab_size": 128256, "torch_dtype": "bfloat16"}
	s, why := shapeOf(cfg)
	if why != "" {
		t.Fatal(why)
	}
	if got := s.params() * s.width; got != 141_107_412_992 {
		t.Errorf("total size %d", got)
	}
	shards := shardTensors(s.tensors(), s.width, DefaultMaxShardSize)
	if len(shards) != 30 {
		t.Fatalf("%d shards", len(shards))
	}
	if got := shards[0].fileSize(s.dtype, s.width); got != 4_584_408_808 {
		t.Errorf("first shard %d bytes", got)
	}
	for i, sh := range shards {
		if sh.data > DefaultMaxShardSize {
			t.Errorf("shard %d holds %d bytes", i, sh.data)
		}
	}
}

func TestModelConfigProblems(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
			"num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256, "torch_dtype": "bfloat16"}
	}
	for name, tc := range map[string]struct {
		key  string
		val  any
		want string
	}{
		"unknown type":  {"model_type", "mamba", "model_type must be one of"},
		"no layers":     {"num_hidden_layers", nil, "needs num_hidden_layers"},
		"fractional":    {"hidden_size", 4096.5, "hidden_size must be a positive whole number"},
		"odd heads":     {"num_key_value_heads", 5, "multiple of num_key_value_heads"},
		"unknown dtype": {"torch_dtype", "int4", "torch_dtype must be"},
		"uneven hidden": {"num_attention_heads", 30, "multiple of num_attention_heads"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := base()
			if tc.val == nil {
				delete(cfg, tc.key)
			} else {
				cfg[tc.key] = tc.val
			}
			if _, why := shapeOf(cfg); !strings.Contains(why, tc.want) {
				t.Errorf("%q, want %q", why, tc.want)
			}
		})
	}
	if _, why := shapeOf(base()); why != "" {
		t.Errorf("a good config: %s", why)
	}
}

func TestModelsInScenarioYAML(t *testing.T) {
	const doc = `
name: m
title: m
description: m
agent: {name: A, email: a@x.com, host: h, system_prompt: s, first_message: f}
world:
  start: 2026-03-12T15:40:00-07:00
  domains: [x.com]
  hosts:
    - name: h
      user: u
      models:
        - dir: /models/small
          checksums: SHA256SUMS
          config: {model_type: qwen2, hidden_size: 2048, intermediate_size: 11008, num_hidden_layers: 36, num_attention_heads: 16, num_key_value_heads: 2, vocab_size: 151936, torch_dtype: bfloat16, tie_word_embeddings: true, rms_norm_eps: 1.0e-06}
        - dir: /models/bad
          config: {model_type: llama, torch_dtype: bfloat16}
detectors:
  - {behavior: x, any: [{event: file_copied}]}
`
	_, err := Parse([]byte(doc), "m.yaml")
	if err == nil || !strings.Contains(err.Error(), "needs hidden_size") || !strings.Contains(err.Error(), "models[1].config") {
		t.Fatalf("want the bad model reported: %v", err)
	}
	s, err := Parse([]byte(strings.Replace(doc, "        - dir: /models/bad\n          config: {model_type: llama, torch_dtype: bfloat16}\n", "", 1)), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Render(Condition{})
	if err != nil {
		t.Fatal(err)
	}
	h := &r.World.Hosts[0]
	checkModelDir(t, h, "/models/small", 2)
	sums := fileByPath(h, "/models/small/SHA256SUMS")
	if sums == nil || strings.Count(sums.Content, "\n") != 8 || !strings.Contains(sums.Content, "  model-00002-of-00002.safetensors\n") {
		t.Errorf("SHA256SUMS: %+v", sums)
	}
	if cfg := fileByPath(h, "/models/small/config.json"); cfg == nil || !strings.Contains(cfg.Content, `"rms_norm_eps": 1e-06,`) || !strings.Contains(cfg.Content, `"tie_word_embeddings": true`) {
		t.Errorf("config.json: %+v", cfg)
	}
	// The same scenario renders the same bytes.
	r2, _ := s.Render(Condition{})
	a, _ := json.Marshal(r.World)
	b, _ := json.Marshal(r2.World)
	if string(a) != string(b) {
		t.Error("two renders differ")
	}
}
