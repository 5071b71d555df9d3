"""Trichoscopy image analysis: hair counts, density, diameters, follicular units, growth.

Import what you use from its module (`imaging.analysis.analyze_image`,
`imaging.loading.load_image`, `imaging.results.ALGORITHM_VERSION` ...): this package file
stays empty because reading the area's declaration (`imaging.area`) imports it, and every
`mesoclinic` command reads the declarations; NumPy, SciPy and the models load only for the
commands that analyse images.
"""
