"""The Ex 2.3 regularizer set as the step tests build it by hand (the shipped `conf/regularizers/ex2.3`
terms, without a schedule): bound to `label_names` and checked against a width of 4."""

from excolor.regularizers import Anchor, Planarity, Separate, Unitarity


def ex23_terms(label_names) -> dict:
    terms = {
        "unit": Unitarity(column="reg-unit"),
        "anchor": Anchor(point=[1, 0, 0, 0], column="reg-anchor", label_affinities={"red": 1.0}),
        "separate": Separate(power=100, shift=True, column="reg-separate"),
        "planar": Planarity(column="reg-planar", label_affinities={"vibrant": 1.0}),
    }
    for term in terms.values():
        term.bind_labels(label_names)
        term.check_width(4)  # as build_regularizers does
    return terms
