"""MNIST and the ways a digit becomes a sequence: the files (idx), the official set and the shipped sample, row orders."""
