"""bAbI task files read as Keras's bAbI examples read them, shared by the scripts that run those examples.

A file becomes a list of (story words, question words, answer): the story is every statement since the last line
numbered 1, flattened; words are split as Keras's examples split them (words plus "." and "?").
"""
import glob, os, re


def tokenize(sentence):
    # Keras's examples used r"(\W+)?", which splits every word into letters on Python 3.7+.
    return [t.strip() for t in re.split(r"(\W+)", sentence) if t.strip()]


def parse(lines):
    data, story = [], []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        nid, line = line.split(" ", 1)
        if int(nid) == 1:
            story = []
        if "\t" in line:
            question, answer, _supporting = line.split("\t")
            data.append(([t for s in story for t in s], tokenize(question), answer))
        else:
            story.append(tokenize(line))
    return data


def read_task(data_dir, task, split):
    """The questions of `{task}_*_{split}.txt` in `data_dir` (exactly one such file)."""
    [path] = glob.glob(os.path.join(data_dir, f"{task}_*_{split}.txt"))
    with open(path) as f:
        return parse(f)
