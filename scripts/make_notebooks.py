"""Write docs/notebooks/ch05.ipynb and ch05.ja.ipynb: the same code cells, English or Japanese prose, no outputs.

    python scripts/make_notebooks.py            # rewrites both notebooks in docs/notebooks/

The two notebooks are generated from this one list of cells, so their code cannot drift apart: edit the cells here
(each prose cell has its English and its Japanese text side by side) and rerun. tests/test_docs.py checks that the
stored notebooks are what this script writes, and executes them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = []


def md(en: str, ja: str) -> None:
    CELLS.append(("md", en.strip("\n"), ja.strip("\n")))


def code(src: str) -> None:
    CELLS.append(("code", src.strip("\n"), None))


md(
    """
# Chapter 5 — Backpropagation, through zerograd

This notebook follows chapter 5 of *Deep Learning from Scratch* (『ゼロから作るDeep Learning』) with zerograd:
the apple graph built from `MulLayer`/`AddLayer`, the same graph recorded by `zerograd.graph.Value` and drawn as
figure 5-16, every layer of the chapter forward and backward on a small array beside its local derivative, the
two-layer net, the gradient check, and a short training run with its curves.

It needs no download: the training data is the 10,000-digit MNIST sample bundled with zerograd. The pictures of
graphs need graphviz's `dot` (`apt-get install graphviz`, `brew install graphviz`); without it those cells print
the DOT source instead. Every cell checks its numbers with `assert`, and the test suite runs the whole notebook.
""",
    """
# 第5章 誤差逆伝播法 — zerograd でたどる

このノートブックは『ゼロから作るDeep Learning』の第5章を、zerograd を使ってたどります。乗算レイヤ（`MulLayer`）と
加算レイヤ（`AddLayer`）で組んだリンゴの計算グラフ、同じグラフを `zerograd.graph.Value` で記録して図5-16のように
描いたもの、章に出てくる各レイヤの順伝播と逆伝播（小さな配列で、局所的な微分と並べて）、2層ニューラルネットワーク、
勾配確認、そして短い学習とその学習曲線です。

ダウンロードは不要です。学習には zerograd に同梱された MNIST のサンプル（10,000枚）を使います。計算グラフの図を
描くには graphviz の `dot` が必要です（`apt-get install graphviz` または `brew install graphviz`）。ない場合、
それらのセルは図の代わりに DOT のソースを表示します。各セルは `assert` で数値を確かめており、テストスイートが
このノートブック全体を実行します。
""",
)

code("""
import shutil

import numpy as np

np.set_printoptions(precision=4, suppress=True)
HAVE_DOT = shutil.which("dot") is not None  # graphviz's `dot` draws the pictures; without it we print DOT text
print("graphviz dot:", "found" if HAVE_DOT else "not found, graph pictures are replaced by their DOT source")
""")

md(
    """
## 5.4 Simple layers: the apple graph with `MulLayer`

Two apples at 100 each, then a consumption tax of 1.1. Each multiplication node is a `MulLayer`: `forward(x, y)`
returns `x * y`, and `backward(dout)` returns `(dout * y, dout * x)` — each input receives the upstream gradient
times the *other* input, because ∂(xy)/∂x = y and ∂(xy)/∂y = x. Backpropagation calls the layers in the reverse
order of the forward pass.
""",
    """
## 5.4 単純なレイヤの実装：乗算レイヤでリンゴの計算グラフ

100円のリンゴを2個買い、消費税1.1がかかります。乗算ノードはそれぞれ `MulLayer` です。`forward(x, y)` は `x * y` を
返し、`backward(dout)` は `(dout * y, dout * x)` を返します。∂(xy)/∂x = y、∂(xy)/∂y = x なので、上流から来た微分に
「もう一方の入力」を掛けたものが各入力に流れます。逆伝播では、順伝播と逆の順番でレイヤを呼び出します。
""",
)

code("""
from zerograd.layers import AddLayer, MulLayer

apple, apple_num, tax = 100, 2, 1.1

mul_apple_layer = MulLayer()
mul_tax_layer = MulLayer()

# forward
apple_price = mul_apple_layer.forward(apple, apple_num)  # 100 × 2
price = mul_tax_layer.forward(apple_price, tax)  # 200 × 1.1

# backward, in the reverse order
dprice = 1.0
dapple_price, dtax = mul_tax_layer.backward(dprice)
dapple, dapple_num = mul_apple_layer.backward(dapple_price)

print("price:", round(price, 6))
print("dapple:", round(dapple, 6), " dapple_num:", round(dapple_num, 6), " dtax:", round(dtax, 6))
assert (round(price, 6), round(dapple, 6), round(dapple_num, 6), round(dtax, 6)) == (220, 2.2, 110, 200)
""")

md(
    """
Adding oranges (150 each, 3 of them) brings in an `AddLayer`: ∂(x + y)/∂x = ∂(x + y)/∂y = 1, so an addition node
passes its upstream gradient on to both inputs unchanged.
""",
    """
ミカン（1個150円を3個）を加えると加算レイヤ `AddLayer` が登場します。∂(x + y)/∂x = ∂(x + y)/∂y = 1 なので、
加算ノードは上流から来た微分をそのまま両方の入力へ流します。
""",
)

code("""
orange, orange_num = 150, 3

mul_apple_layer, mul_orange_layer = MulLayer(), MulLayer()
add_apple_orange_layer, mul_tax_layer = AddLayer(), MulLayer()

apple_price = mul_apple_layer.forward(apple, apple_num)
orange_price = mul_orange_layer.forward(orange, orange_num)
all_price = add_apple_orange_layer.forward(apple_price, orange_price)
price = mul_tax_layer.forward(all_price, tax)

dall_price, dtax = mul_tax_layer.backward(1.0)
dapple_price, dorange_price = add_apple_orange_layer.backward(dall_price)  # both get dall_price unchanged
dorange, dorange_num = mul_orange_layer.backward(dorange_price)
dapple, dapple_num = mul_apple_layer.backward(dapple_price)

found = {name: round(value, 6) for name, value in [("price", price), ("dapple_num", dapple_num), ("dapple", dapple),
         ("dorange", dorange), ("dorange_num", dorange_num), ("dtax", dtax)]}
print(found)
assert found == {"price": 715, "dapple_num": 110, "dapple": 2.2, "dorange": 3.3, "dorange_num": 165, "dtax": 650}
""")

md(
    """
## 5.1–5.3 The same graph, recorded as you compute: `Value`

With layers, *you* wire the graph and call `backward` in reverse order. `zerograd.graph.Value` records each
operation as it happens (define-by-run), so the graph builds itself; `price.backward()` then walks it backwards
and leaves `d price / d input` in each input's `grad`. The numbers agree with the layers above.
""",
    """
## 5.1〜5.3 同じ計算グラフを、計算しながら記録する：`Value`

レイヤを使う場合は、グラフの組み立ても逆順の `backward` 呼び出しも自分で書きます。`zerograd.graph.Value` は演算を
行うたびにそれをノードとして記録するので（define-by-run）、計算グラフが自動的にできあがります。`price.backward()`
はそのグラフを逆向きにたどり、各入力の `grad` に「price の、その入力についての微分」を残します。数値は上のレイヤで
求めたものと一致します。
""",
)

code("""
from zerograd.graph import Value

apple_v, apple_num_v, tax_v = Value(100, name="apple"), Value(2, name="apple_num"), Value(1.1, name="tax")
price_v = (apple_v * apple_num_v * tax_v).named("price")
price_v.backward()  # starts from d price / d price = 1

print(f"price {price_v.item():g}; d apple {float(apple_v.grad):g}, d apple_num {float(apple_num_v.grad):g}, "
      f"d tax {float(tax_v.grad):g}")
assert np.allclose([price_v.item(), apple_v.grad, apple_num_v.grad, tax_v.grad], [220, 2.2, 110, 200])
""")

md(
    """
Drawn the way figure 5-16 draws it: left to right, the forward values above the arrows and the gradients flowing
back under them, in red.
""",
    """
図5-16と同じように描きます。左から右へ、矢印の上に順伝播の値、その下に赤で逆伝播の微分です。
""",
)

code("""
from IPython.display import SVG, display

from zerograd.graph import draw, to_svg

figure_5_16 = draw(price_v)
if HAVE_DOT:
    display(SVG(to_svg(figure_5_16)))
else:
    print("graphviz's `dot` is not installed; the DOT source of the picture:\\n")
    print(figure_5_16.source)
""")

md(
    """
## 5.5–5.6 The layers of the network, one at a time

Each layer below runs forward and backward on a small array, next to the local derivative its `backward` applies.
`zerograd.gradcheck.check_layer` then compares that backward with central differences of the forward pass (in
float64) and prints one line per input and parameter: the mean absolute difference, the largest relative error,
and the worst element with both values.

### ReLU: ∂y/∂x = 1 where x > 0, else 0
""",
    """
## 5.5〜5.6 ネットワークのレイヤを一つずつ

以下では、各レイヤに小さな配列を通して順伝播と逆伝播を行い、その `backward` が使う局所的な微分と並べて示します。
続いて `zerograd.gradcheck.check_layer` が、その逆伝播を順伝播の中心差分（数値微分、float64）と比べ、入力と
パラメータごとに1行ずつ表示します。差の絶対値の平均、最大の相対誤差、そして最も差の大きい要素での両方の値です。

### ReLUレイヤ：x > 0 なら ∂y/∂x = 1、それ以外は 0
""",
)

code("""
from zerograd.gradcheck import check_layer
from zerograd.layers import Affine, Relu, Sigmoid, SoftmaxWithLoss

x = np.array([[1.0, -0.5], [-2.0, 3.0]])
relu = Relu()
y = relu.forward(x)
dout = np.array([[0.1, 0.2], [0.3, 0.4]])
dx = relu.backward(dout)
print("y = max(0, x):\\n", y)
print("dx = dout where x > 0, else 0:\\n", dx)
assert np.array_equal(dx, np.where(x > 0, dout, 0.0))
assert np.array_equal(dout, [[0.1, 0.2], [0.3, 0.4]])  # unlike the book's Relu, dout is left as it was

report = check_layer(Relu(), x)
print(report)
assert report.passed
""")

md(
    """
### Sigmoid: ∂y/∂x = y (1 − y)

The backward pass needs only the output `y` that forward kept.
""",
    """
### Sigmoidレイヤ：∂y/∂x = y (1 − y)

逆伝播に必要なのは、順伝播で保持しておいた出力 `y` だけです。
""",
)

code("""
x = np.array([[-2.0, 0.0, 2.0]])
sigmoid = Sigmoid()
y = sigmoid.forward(x)
dx = sigmoid.backward(np.ones_like(x))
print("y = 1 / (1 + exp(-x)):", y)
print("dx = y (1 - y):       ", dx)
assert np.allclose(dx, y * (1 - y))

report = check_layer(Sigmoid(), x)
print(report)
assert report.passed
""")

md(
    """
### Affine: ∂L/∂X = ∂L/∂Y · Wᵀ, ∂L/∂W = Xᵀ · ∂L/∂Y, ∂L/∂b = the sum of ∂L/∂Y over the batch

Shapes make the formulas: `X` is (N, D), `W` (D, M), `Y = X·W + b` (N, M); each gradient has the shape of what
it is the gradient of.
""",
    """
### Affineレイヤ：∂L/∂X = ∂L/∂Y · Wᵀ、∂L/∂W = Xᵀ · ∂L/∂Y、∂L/∂b = ∂L/∂Y のバッチ方向の和

式は形状から決まります。`X` は (N, D)、`W` は (D, M)、`Y = X·W + b` は (N, M) で、各勾配は元の変数と同じ形状です。
""",
)

code("""
rng = np.random.default_rng(0)
X = rng.standard_normal((2, 3))  # N = 2 samples, D = 3 features
W, b = rng.standard_normal((3, 4)), np.zeros(4)  # M = 4 outputs
affine = Affine(W, b)
Y = affine.forward(X)
dY = rng.standard_normal(Y.shape)
dX = affine.backward(dY)
print(f"X {X.shape} → Y {Y.shape};  dX {dX.shape}, dW {affine.dW.shape}, db {affine.db.shape}")
assert np.allclose(dX, dY @ W.T) and np.allclose(affine.dW, X.T @ dY) and np.allclose(affine.db, dY.sum(axis=0))

report = check_layer(Affine(W.copy(), b.copy()), X)
print(report)
assert report.passed
""")

md(
    """
### Softmax-with-Loss: ∂L/∂x = (y − t) / N

Softmax followed by the cross-entropy error has the cleanest local derivative of the chapter: the prediction minus
the one-hot label, divided by the batch size because the loss is a batch mean. zerograd computes the loss from the
logits (log-sum-exp), so no `1e-7` is needed inside the log.
""",
    """
### Softmax-with-Lossレイヤ：∂L/∂x = (y − t) / N

ソフトマックス関数と交差エントロピー誤差を組み合わせると、この章でいちばんきれいな局所的な微分になります。出力から
one-hot 表現の教師ラベルを引き、バッチサイズで割ったものです（損失がバッチの平均だからです）。zerograd は損失を
スコア（ソフトマックスを通す前の値）から log-sum-exp で計算するので、log の中に `1e-7` を足す必要がありません。
""",
)

code("""
from zerograd.functions import softmax

logits = np.array([[2.0, 1.0, 0.1], [0.3, 2.5, 0.2]])  # (N, C) = (2, 3)
t = np.array([0, 1])  # the correct classes (one-hot rows work too)
loss_layer = SoftmaxWithLoss()
loss = loss_layer.forward(logits, t)
dx = loss_layer.backward()
print(f"loss = {loss:.4f}")
print("dx = (softmax(x) - onehot(t)) / N:\\n", dx)
assert np.allclose(dx, (softmax(logits) - np.eye(3)[t]) / len(t))

report = check_layer(SoftmaxWithLoss(), logits, t)
print(report)
assert report.passed
""")

md(
    """
## 5.7.1–5.7.2 The two-layer net

`TwoLayerNet(784, 50, 10)` stacks `Affine1 → Relu1 → Affine2` in an ordered dict, with `SoftmaxWithLoss` last.
`gradient(x, t)` runs one forward pass and then the layers' `backward` in reverse order, and returns one gradient
per parameter, each of its parameter's shape. The data is the bundled MNIST sample: 8,000 training and 2,000 test
digits, `x` of shape (N, 784) in [0, 1], `t` integer labels.
""",
    """
## 5.7.1〜5.7.2 2層ニューラルネットワーク

`TwoLayerNet(784, 50, 10)` は `Affine1 → Relu1 → Affine2` を順序付き辞書に並べ、最後に `SoftmaxWithLoss` を置きます。
`gradient(x, t)` は順伝播を1回行ってから各レイヤの `backward` を逆順に呼び、パラメータごとに、そのパラメータと
同じ形状の勾配を返します。データは同梱の MNIST サンプルです。訓練データ8,000枚とテストデータ2,000枚で、`x` は
(N, 784) の形状で値は0〜1、`t` は整数のラベルです。
""",
)

code("""
from zerograd.datasets import load_dataset
from zerograd.nets import TwoLayerNet

(x_train, t_train), (x_test, t_test) = load_dataset("mnist-sample")
print("train", x_train.shape, t_train.shape, " test", x_test.shape, t_test.shape)

net = TwoLayerNet(784, 50, 10, rng=0)
print(net, "—", " → ".join(net.layers), "→ SoftmaxWithLoss")
grads = net.gradient(x_train[:100], t_train[:100])  # a mini-batch of 100
for key, grad in grads.items():
    print(f"{key}: parameter {net.params[key].shape}, gradient {grad.shape}")
    assert grad.shape == net.params[key].shape
""")

md(
    """
The same net after one forward and backward pass, drawn layer by layer with its array shapes and gradient norms
(the picture needs `dot`).
""",
    """
同じネットワークを、順伝播と逆伝播を1回ずつ行ったあとの状態で、レイヤごとに配列の形状と勾配のノルムを添えて
描きます（図には `dot` が必要です）。
""",
)

code("""
from zerograd.graph import net_view

net_graph = net_view(net, x_train[:100], t_train[:100])
if HAVE_DOT:
    display(SVG(to_svg(net_graph)))
else:
    print("graphviz's `dot` is not installed; the DOT source of the picture:\\n")
    print(net_graph.source)
""")

md(
    """
## 5.7.3 Gradient check

Backpropagation is fast but easy to get wrong; numerical differentiation is slow but simple. The gradient check
compares the two on a few images. `check_net` prints, per parameter, the mean absolute difference (the number the
book's `gradient_check.py` prints), the largest relative error and the worst element. The book's differences are
around 1e-10 to 1e-13; here every one must stay under 1e-9.
""",
    """
## 5.7.3 誤差逆伝播法の勾配確認

誤差逆伝播法は速い代わりに実装を間違えやすく、数値微分は遅い代わりに実装が簡単です。勾配確認では、数枚の画像で
この二つを比べます。`check_net` はパラメータごとに、差の絶対値の平均（本の `gradient_check.py` が表示する数値）、
最大の相対誤差、最も差の大きい要素を表示します。本に載っている差は 1e-10〜1e-13 程度です。ここではすべてが 1e-9
未満であることを確かめます。
""",
)

code("""
from zerograd.gradcheck import check_net

report = check_net(net, x_train[:3], t_train[:3])
print(report)
print()
for row in report:
    print(f"{row.name}: {row.mean_abs_diff:.2e}")  # the book's form: key, mean |backprop - numerical|
    assert row.mean_abs_diff < 1e-9
assert report.passed
""")

md(
    """
## 5.7.4 Training with backpropagation

The book's loop, spelled out: draw a mini-batch, get the gradient by backpropagation, step every parameter
against it by the learning rate. Then the same with `zerograd.train.Trainer`, which adds one shuffled pass over
the data per epoch, accuracy after every epoch and a record of the loss and of the seconds each epoch took.
""",
    """
## 5.7.4 誤差逆伝播法を使った学習

まずは本のループをそのまま書きます。ミニバッチを取り出し、誤差逆伝播法で勾配を求め、各パラメータを学習率の分だけ
勾配の逆方向へ更新します。続いて同じことを `zerograd.train.Trainer` で行います。エポックごとにデータをシャッフル
して一巡し、エポックの終わりに認識精度を測り、損失の推移と各エポックにかかった秒数を記録します。
""",
)

code("""
net = TwoLayerNet(784, 50, 10, rng=0)
learning_rate, batch_size = 0.1, 100
batch_rng = np.random.default_rng(0)
first_loss = net.loss(x_train[:1000], t_train[:1000])
for i in range(200):
    batch_mask = batch_rng.choice(len(x_train), batch_size)
    x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
    grad = net.gradient(x_batch, t_batch)
    for key in ("W1", "b1", "W2", "b2"):
        net.params[key] -= learning_rate * grad[key]  # the layers hold these same arrays
last_loss = net.loss(x_train[:1000], t_train[:1000])
print(f"loss {first_loss:.3f} → {last_loss:.3f} after 200 iterations; test accuracy {net.accuracy(x_test, t_test):.3f}")
assert last_loss < first_loss / 2
""")

code("""
from zerograd.train import TrainConfig, Trainer

net = TwoLayerNet(784, 50, 10, rng=0)
config = TrainConfig(epochs=6, batch_size=100, lr=0.1, seed=0)
history = Trainer(net, config, x_train, t_train, x_test, t_test).fit()
for epoch, (loss, train_acc, test_acc) in enumerate(
        zip(history.epoch_loss, history.train_acc, history.test_acc, strict=True), start=1):
    print(f"epoch {epoch}: loss {loss:.3f}  train acc {train_acc:.3f}  test acc {test_acc:.3f}")
print(f"{config.epochs} epochs of {len(x_train)} digits in {sum(history.seconds):.2f} s (accuracy evaluation excluded)")
assert history.test_acc[-1] >= 0.85
""")

md(
    """
The curves: the loss of every mini-batch and its mean per epoch, and the train and test accuracy after each epoch.
Train and test accuracy stay close: no overfitting yet.
""",
    """
学習曲線です。左はミニバッチごとの損失とそのエポック平均、右はエポックごとの訓練データとテストデータでの認識精度
です。二つの認識精度はほぼ重なっており、過学習はまだ起きていません。
""",
)

code("""
import io

from IPython.display import Image

from zerograd.plot import plot_curves

fig = plot_curves(history, title="TwoLayerNet(784, 50, 10) on the bundled MNIST sample")
buffer = io.BytesIO()
fig.savefig(buffer, format="png", dpi=80)
display(Image(buffer.getvalue()))
""")

md(
    """
## Going further

- `zerograd train` trains this net on the full MNIST from the command line, with a progress bar, checkpoints and
  `curves.png`; `zerograd gradcheck --layers` checks every layer; `zerograd graph apple --out apple.png` draws
  figure 5-16.
- The book's own chapter-5 scripts run unchanged on zerograd through `zerograd.book` (see the README).
""",
    """
## さらに先へ

- `zerograd train` はこのネットワークを完全な MNIST でコマンドラインから学習します（進捗バー、チェックポイント、
  `curves.png` 付き）。`zerograd gradcheck --layers` はすべてのレイヤを勾配確認し、
  `zerograd graph apple --out apple.png` は図5-16を描きます。
- 本の第5章のスクリプトは、`zerograd.book` を通してそのまま zerograd の上で動きます（README.ja.md を参照）。
""",
)

md(
    """
## My gradient check fails — what now?

When a `backward` you wrote fails its check, `check_layer(..., explain=True)` says what is wrong, with the numbers
behind it. Here `Affine.backward` divides `dW` by the batch size a second time (`SoftmaxWithLoss` already did):
zerograd sees `dW` at 1/5 of the numerical gradient on every element, and at 1/6 with one more sample, so it names
the batch size. `zerograd gradcheck --layer my_layers.py:MyAffine --explain` does the same for a class in your own
file, and `check_net(..., explain=True)` first names the layer of a net where the wrong gradient starts
(docs/gradcheck.md lists every mistake zerograd recognises).
""",
    """
## 勾配確認が失敗した — どうすればいい？

自分で書いた `backward` が勾配確認に通らないときは、`check_layer(..., explain=True)` が何が間違っているかを根拠の
数値とともに伝えます。ここでは `Affine.backward` が `dW` をバッチサイズでもう一度割っています（`SoftmaxWithLoss`
がすでに割っています）。zerograd は `dW` がすべての要素で数値微分の 1/5 であり、サンプルを一つ増やすと 1/6 になる
ことから、バッチサイズが原因だと指摘します。自分のファイルにあるクラスは
`zerograd gradcheck --layer my_layers.py:MyAffine --explain` で同じように確認でき、`check_net(..., explain=True)`
はまずネットワークのどのレイヤで勾配が誤り始めるかを示します（zerograd が見分ける間違いの一覧は
docs/gradcheck.ja.md にあります）。
""",
)

code("""
from zerograd.gradcheck import check_layer
from zerograd.layers import Affine


class MyAffine(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = self.dW / len(dout)  # a planted slip: the batch size divided a second time
        return dx


rng = np.random.default_rng(0)
report = check_layer(MyAffine(rng.standard_normal((4, 3)), rng.standard_normal(3)), rng.standard_normal((5, 4)),
                     explain=True)
print(report)
assert [(d.name, d.kind) for d in report.diagnoses] == [("W", "divided-by-batch-size")]
""")


def build(lang: str) -> nbformat.NotebookNode:
    cells = []
    for kind, en, ja in CELLS:
        if kind == "code":
            cells.append(new_code_cell(en))
        else:
            cells.append(new_markdown_cell(ja if lang == "ja" else en))
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    # stable ids so that regenerating gives the same file
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"ch05-{i:02d}"
    return nb


ROOT = Path(__file__).resolve().parents[1]
NAMES = {"en": "ch05.ipynb", "ja": "ch05.ja.ipynb"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "notebooks", help="directory to write into")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for lang, name in NAMES.items():
        nb = build(lang)
        nbformat.validate(nb)
        (args.out / name).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        print("wrote", args.out / name)


if __name__ == "__main__":
    main()
