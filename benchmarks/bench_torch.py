"""Reference: the chapter's two-layer net (SGD), chapter 7's SimpleConvNet or chapter 8's DeepConvNet (Adam) in
PyTorch, CPU eager mode, float32, shuffled batches each epoch."""

from __future__ import annotations

import numpy as np

from _common import load_data, parse_args, report, time_epochs


def main() -> None:
    import torch

    args = parse_args()
    x_train, t_train, x_test, t_test = load_data(args.dataset, args.train_samples)
    torch.manual_seed(args.seed)
    x_train_t, t_train_t = torch.from_numpy(x_train), torch.from_numpy(t_train.astype(np.int64))
    nn = torch.nn
    if args.net == "convnet":  # conv 30x5x5 → ReLU → max-pool 2x2 → Affine hidden → ReLU → Affine 10
        x_train, x_test = x_train.reshape(-1, 1, 28, 28), x_test.reshape(-1, 1, 28, 28)
        x_train_t = torch.from_numpy(x_train)
        model = nn.Sequential(
            nn.Conv2d(1, 30, 5),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
            nn.Flatten(),
            nn.Linear(30 * 12 * 12, args.hidden),
            nn.ReLU(),
            nn.Linear(args.hidden, 10),
        )
    elif args.net == "deepconvnet":  # the book's six 3x3 convolutions, three poolings, Affine hidden, dropouts
        x_train, x_test = x_train.reshape(-1, 1, 28, 28), x_test.reshape(-1, 1, 28, 28)
        x_train_t = torch.from_numpy(x_train)
        layers = []
        channels = 1
        for i, (filters, pad) in enumerate([(16, 1), (16, 1), (32, 1), (32, 2), (64, 1), (64, 1)]):
            layers += [nn.Conv2d(channels, filters, 3, padding=pad), nn.ReLU()]
            if i % 2 == 1:
                layers.append(nn.MaxPool2d(2, 2))
            channels = filters
        model = nn.Sequential(
            *layers,
            nn.Flatten(),
            nn.Linear(64 * 4 * 4, args.hidden),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(args.hidden, 10),
            nn.Dropout(0.5),
        )
    else:
        widths = [784, *(int(w) for w in (args.hidden_list or str(args.hidden)).split(",")), 10]
        layers: list = []
        for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        model = nn.Sequential(*layers[:-1])
    with torch.no_grad():  # the book's initialisation: N(0, 0.01²) weights (He for DeepConvNet), zero biases
        for module in model:
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                fan_in = module.weight[0].numel()
                module.weight.normal_(0, (2 / fan_in) ** 0.5 if args.net == "deepconvnet" else 0.01)
                module.bias.zero_()
    loss_fn = nn.CrossEntropyLoss()
    if (args.optimizer or ("sgd" if args.net == "mlp" else "adam")) == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(args.seed)

    def run_epoch(_: int) -> None:
        model.train()
        order = torch.randperm(len(x_train_t), generator=generator)
        for start in range(0, len(order), args.batch_size):
            idx = order[start : start + args.batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_train_t[idx]), t_train_t[idx])
            loss.backward()
            optimizer.step()

    seconds = time_epochs(run_epoch, args.epochs)
    model.eval()
    with torch.no_grad():
        predicted = np.concatenate(
            [model(torch.from_numpy(x_test[i : i + 1000])).argmax(dim=1).numpy() for i in range(0, len(x_test), 1000)]
        )
    report(seconds, float(np.mean(predicted == t_test)), torch_threads=torch.get_num_threads())


if __name__ == "__main__":
    main()
