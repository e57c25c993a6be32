"""Faithful copy of the original module (L5NeuronSimulation/raster_maker.py), for the
'original' peer: a scipy Poisson object and one draw per unit per 1 ms bin, an HDF5
resize per append. Same statements as the copies in tests/test_legacy.py.
"""

# ruff: noqa: NPY002, N803, N806 - the original's global random state and names
import h5py
import numpy as np
import scipy.signal as ss
import scipy.stats


class OriginalSonataWriter:
    def __init__(self, f_name, groups, datasets, types):
        self.file = h5py.File(f_name, "w")
        self.group = self.file
        for group in groups:
            self.group = self.group.create_group(group)
        self.datasets = {}
        for i, ds in enumerate(datasets):
            self.datasets[ds] = self.group.create_dataset(
                ds, data=[], dtype=types[i], chunks=True, maxshape=(None,)
            )

    def append_ds(self, vals, ds):
        length = len(self.datasets[ds])
        self.datasets[ds].resize((length + len(vals),))
        self.datasets[ds][length:] = vals

    def append_repeat(self, ds, val, N):
        self.append_ds([val for i in range(N)], ds)

    def close(self):
        self.file.close()


def _minmax(x):
    return (x - np.min(x)) / (np.max(x) - np.min(x))


def original_make_noise(num_traces=100, num_samples=4999):
    B = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    A = [1, -2.494956002, 2.017265875, -0.522189400]
    invfn = np.zeros((num_traces, num_samples))
    for i in np.arange(0, num_traces):
        wn = np.random.normal(loc=1, scale=0.5, size=num_samples + 2000)
        invfn[i, :] = _minmax(ss.lfilter(B, A, wn)[2000:]) + 0.5
    return invfn


def original_make_save_spikes(
    writer, exp, dist, numUnits=100, rateProf=None, start_id=0, start_time=0
):
    for i in np.arange(0, numUnits):
        r = rateProf[i, :]
        r[r < 0] = 0
        if exp:
            rate_temp = r * np.exp(dist[i])
        else:
            rate_temp = r * dist[i]
        numbPoints = scipy.stats.poisson(rate_temp / 1000).rvs()
        simSpks = np.where(numbPoints > 0)[0]
        writer.append_repeat("node_ids", i + start_id, len(simSpks))
        writer.append_ds(simSpks + start_time, "timestamps")
