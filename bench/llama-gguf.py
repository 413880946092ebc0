#!/usr/bin/env python3
"""GGUF files with a catalogue model's shapes and random weights, for the
llama.cpp peer scripts, written and read with llama.cpp's own gguf-py.

  llama-gguf.py write GGUF_PY MODELS_CSV OUT --model ID --type q4_0|q8_0|f16
                [--layers N] [--hidden N] [--ffn N] [--vocab N]
  llama-gguf.py bytes GGUF_PY OUT [--prompt N]  # JSON: bytes and weights per token
  llama-gguf.py types GGUF_PY OUT              # tensor name -> type, a table

Quantized weights are written as raw llama.cpp blocks (an f16 scale, then
the packed integers) with scales small enough that a random-weights forward
pass stays finite: the timings must not depend on what the weights say.
"""
import argparse
import csv
import json
import sys

BLOCK = 32


def gguf_module(path):
    sys.path.insert(0, path)
    import gguf  # noqa: E402  (the vendored tree's, not an installed one)

    return gguf


def catalogue(path, model_id):
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["id"] == model_id:
                return row
    sys.exit(f"{model_id} is not in {path}")


def arch_of(row):
    """The llama.cpp architecture whose tensor names and keys the model's
    shapes fit; others (sliding windows, sinks, biases) are not written."""
    if row["id"].startswith(("llama", "mistral")):
        return "llama"
    if row["id"].startswith("qwen3"):
        return "qwen3moe" if int(row["experts"]) > 0 else "qwen3"
    sys.exit(f"{row['id']}: only Llama, Mistral and Qwen3 shapes are written")


def fake_vocab(writer, gguf, n):
    """A SentencePiece-style vocabulary llama.cpp loads: unk, bos, eos, the
    256 byte tokens (it looks up the newline's), then filler pieces."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    types += [gguf.TokenType.BYTE] * 256
    if n < len(tokens) + 1:
        sys.exit(f"a vocabulary of {n} tokens cannot hold the byte tokens")
    tokens += [f"\u2581t{i}" for i in range(n - len(tokens))]
    types += [gguf.TokenType.NORMAL] * (n - len(types))
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * n)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)


class Weights:
    """Random weights of one type, drawn once into a pool as large as the
    largest tensor and cut from it per tensor (a multi-GiB file would
    otherwise take minutes of random numbers on a small machine)."""

    def __init__(self, np, gguf, kind, largest):
        self.np, self.kind = np, kind
        rng = np.random.default_rng(1)
        if kind == "f16":
            self.pool = (rng.standard_normal(largest, dtype=np.float32) * 0.02).astype(np.float16)
            self.raw = None
            return
        qtype = {"q4_0": gguf.GGMLQuantizationType.Q4_0, "q8_0": gguf.GGMLQuantizationType.Q8_0}[kind]
        self.raw = qtype
        block_bytes = gguf.GGML_QUANT_SIZES[qtype][1]
        blocks = np.empty((largest // BLOCK, block_bytes), dtype=np.uint8)
        # q4_0's nibbles are centred on 8 and q8_0's bytes are signed: a
        # scale of 0.02 / 8 or 0.02 / 128 keeps weights within +-0.02.
        scale = 0.02 / (8 if kind == "q4_0" else 128)
        d = (rng.uniform(0.5, 1.0, largest // BLOCK) * scale).astype(np.float16)
        blocks[:, :2] = d.view(np.uint8).reshape(-1, 2)
        blocks[:, 2:] = rng.integers(0, 256, blocks[:, 2:].shape, dtype=np.uint8)
        self.pool = blocks.reshape(-1)
        self.block_bytes = block_bytes

    def tensor(self, rows, cols):
        if self.raw is None:
            return self.pool[: rows * cols].reshape(rows, cols)
        row_bytes = cols // BLOCK * self.block_bytes
        return self.pool[: rows * row_bytes].reshape(rows, row_bytes)


def shapes(row, arch, layers, hidden, ffn, vocab):
    """(name, rows, cols) of each matrix, in the file's order, and the
    norms (name, length)."""
    heads, kv_heads, head_dim = int(row["heads"]), int(row["kv_heads"]), int(row["head_dim"])
    experts = int(row["experts"])
    mats = [("token_embd.weight", vocab, hidden)]
    norms = [("output_norm.weight", hidden)]
    for i in range(layers):
        b = f"blk.{i}."
        norms += [(b + "attn_norm.weight", hidden), (b + "ffn_norm.weight", hidden)]
        if arch.startswith("qwen3"):
            norms += [(b + "attn_q_norm.weight", head_dim), (b + "attn_k_norm.weight", head_dim)]
        mats += [
            (b + "attn_q.weight", heads * head_dim, hidden),
            (b + "attn_k.weight", kv_heads * head_dim, hidden),
            (b + "attn_v.weight", kv_heads * head_dim, hidden),
            (b + "attn_output.weight", hidden, heads * head_dim),
        ]
        if experts:
            mats += [
                (b + "ffn_gate_exps.weight", experts * ffn, hidden),
                (b + "ffn_up_exps.weight", experts * ffn, hidden),
                (b + "ffn_down_exps.weight", experts * hidden, ffn),
            ]
        else:
            mats += [
                (b + "ffn_gate.weight", ffn, hidden),
                (b + "ffn_up.weight", ffn, hidden),
                (b + "ffn_down.weight", hidden, ffn),
            ]
    if row["tied_embeddings"] != "yes":
        mats.append(("output.weight", vocab, hidden))
    return mats, norms


def write(args):
    gguf = gguf_module(args.gguf_py)
    import numpy as np

    row = catalogue(args.models, args.model)
    arch = arch_of(row)
    layers = args.layers or int(row["layers"])
    hidden = args.hidden or int(row["hidden"])
    ffn = args.ffn or int(row["ffn"])
    vocab = args.vocab or int(row["vocab"])
    heads, kv_heads, head_dim = int(row["heads"]), int(row["kv_heads"]), int(row["head_dim"])
    experts = int(row["experts"])
    mats, norms = shapes(row, arch, layers, hidden, ffn, vocab)
    for name, rows, cols in mats:
        if cols % BLOCK:
            sys.exit(f"{name}: rows of {cols} weights are not whole blocks of {BLOCK}")

    w = gguf.GGUFWriter(args.out, arch)
    w.add_name(f"{row['name']} shapes, random weights")
    w.add_context_length(4096)
    w.add_embedding_length(hidden)
    w.add_block_count(layers)
    w.add_feed_forward_length(ffn)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_key_length(head_dim)
    w.add_value_length(head_dim)
    w.add_rope_dimension_count(head_dim)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    if experts:
        w.add_expert_count(experts)
        w.add_expert_used_count(int(row["active_experts"]))
        w.add_expert_feed_forward_length(ffn)
    ftype = {"f16": gguf.LlamaFileType.MOSTLY_F16, "q4_0": gguf.LlamaFileType.MOSTLY_Q4_0,
             "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0}[args.type]
    w.add_file_type(ftype)
    fake_vocab(w, gguf, vocab)

    pool = Weights(np, gguf, args.type, max(r * c for _, r, c in mats))
    ones = np.ones(max(n for _, n in norms), dtype=np.float32)
    for name, n in norms:
        w.add_tensor(name, ones[:n])
    for name, rows, cols in mats:
        if name.endswith("exps.weight"):
            # llama.cpp's expert tensors are 3-D: [experts][rows][cols].
            t = pool.tensor(rows, cols).reshape(experts, rows // experts, -1)
        else:
            t = pool.tensor(rows, cols)
        w.add_tensor(name, t, raw_dtype=pool.raw)
    if experts:
        gate = np.zeros((layers, experts, hidden), dtype=np.float32)
        for i in range(layers):
            w.add_tensor(f"blk.{i}.ffn_gate_inp.weight", gate[i])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def per_token(args):
    """Bytes one decoded token reads (every tensor but the embedding table,
    of which one row, unless it is the output matrix too) and the matrix
    weights one prompt token multiplies (the layers', plus the output
    matrix over the prompt: llama.cpp computes logits for the last prompt
    token only). Dense models only: every expert would be counted."""
    gguf = gguf_module(args.gguf_py)
    r = gguf.GGUFReader(args.path)
    tied = not any(t.name == "output.weight" for t in r.tensors)
    read = weights = 0
    for t in r.tensors:
        n = int(t.n_elements)
        if t.name == "token_embd.weight" and not tied:
            read += int(t.n_bytes) // int(t.shape[1])
        elif t.name in ("output.weight", "token_embd.weight"):
            read += int(t.n_bytes)
            weights += n / args.prompt
        else:
            read += int(t.n_bytes)
            if len(t.shape) >= 2 and "ffn_gate_inp" not in t.name:
                weights += n
    json.dump({"weight_bytes_per_token": read, "prefill_weights_per_token": weights}, sys.stdout)
    print()


def types(args):
    gguf = gguf_module(args.gguf_py)
    r = gguf.GGUFReader(args.path)
    print("tensor\ttype\tshape")
    for t in r.tensors:
        shape = "x".join(str(int(d)) for d in t.shape)
        print(f"{t.name}\t{t.tensor_type.name}\t{shape}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("gguf_py")
    w.add_argument("models")
    w.add_argument("out")
    w.add_argument("--model", default="llama2-7b")
    w.add_argument("--type", choices=["q4_0", "q8_0", "f16"], default="f16")
    w.add_argument("--layers", type=int)
    w.add_argument("--hidden", type=int)
    w.add_argument("--ffn", type=int)
    w.add_argument("--vocab", type=int)
    b = sub.add_parser("bytes")
    b.add_argument("gguf_py")
    b.add_argument("path")
    b.add_argument("--prompt", type=int, default=512)
    t = sub.add_parser("types")
    t.add_argument("gguf_py")
    t.add_argument("path")
    args = p.parse_args()
    {"write": write, "bytes": per_token, "types": types}[args.cmd](args)


if __name__ == "__main__":
    main()
