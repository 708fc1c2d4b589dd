"""One help style for every subcommand (issue 20 item 6): each option shows its default as ``(default: X)``, fixed
choices are listed, the top-level help names the chapters covered, ``train --epochs`` says what it means here."""

import argparse
import math
import re

import pytest

from zerograd.cli import COMMANDS, build_parser
from zerograd.datasets.sample import SAMPLE_TRAIN_COUNTS
from zerograd.train import TrainConfig


def subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def option_helps(parser):
    """(name, rendered help) of every option and optional positional that takes a value."""
    formatter = parser._get_formatter()
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction)) or action.help == argparse.SUPPRESS:
            continue
        if action.nargs == 0:  # an on/off flag: off unless given
            continue
        if not action.option_strings and action.nargs not in ("?", "*"):  # a positional that must be given
            continue
        yield "/".join(action.option_strings) or action.dest, formatter._expand_help(action), action


def test_every_subcommand_is_walked():
    assert set(subparsers()) == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_shows_its_default_once_in_one_format(command):
    parser = subparsers()[command]
    problems = []
    for name, text, action in option_helps(parser):
        if text.count("(default: ") != 1:
            problems.append(f"{name}: {text!r} has {text.count('(default: ')} '(default: ...)'")
        if "(default: None)" in text or "(default: [])" in text:
            problems.append(f"{name}: {text!r} shows Python's None/[] instead of saying what the default is")
        if action.choices is not None and action.metavar is not None:
            problems.append(f"{name}: its choices {list(action.choices)} are hidden behind the metavar")
        if re.search(r"\[default|\[[^\]]*\]\s*$", text):  # the other two styles: [default: X] and a final [X]
            problems.append(f"{name}: {text!r} gives a default in another style")
    assert not problems, "\n".join(problems)


def test_predict_runtime_lists_its_choices():
    action = next(a for a in subparsers()["predict"]._actions if "--runtime" in a.option_strings)
    assert action.choices is not None and set(action.choices) == {"zerograd", "onnx"}


def test_the_top_level_help_names_chapters_5_to_8():
    text = build_parser().format_help()
    assert "chapters 5-8" in text and "chapter 5." not in text


def test_train_epochs_says_how_many_iterations_on_full_mnist_and_on_the_sample():
    config = TrainConfig()
    action = next(a for a in subparsers()["train"]._actions if "--epochs" in a.option_strings)
    text = subparsers()["train"]._get_formatter()._expand_help(action)
    full = config.epochs * math.ceil(60000 / config.batch_size)
    sample = config.epochs * math.ceil(sum(SAMPLE_TRAIN_COUNTS) / config.batch_size)
    assert f"{full:,}" in text and f"{sample:,}" in text, text
