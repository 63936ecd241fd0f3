"""Writing the benchmarks' figures."""


def save_figure(fig, title, path):
    """Titles fig, lays it out, writes it to path (PNG at 120 dpi) and frees it."""
    import matplotlib.pyplot as plt

    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
