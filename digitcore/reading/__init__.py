"""Reading the digits on a page: find the ink that belongs to the digits, cut it into digits, read them.

page.py finds the digits' ink on a drawing or a photo of paper (leaving out rulings, grid lines,
edges, shadows, colour bands and specks); segment.py groups that ink into digits (joining the
strokes of one digit, splitting touching digits) and orders them in rows; number.py reads each digit
with the model, through the same 28x28 preparation as one-digit reading. Import from the modules
(digitcore.reading.number, ...): this package imports nothing itself, so digitcore.preprocess can use
the page stage without an import cycle.
"""
