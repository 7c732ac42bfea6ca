"""Reading digits from pictures: untrusted bytes in, 28x28 MNIST-style inputs and the model's answers out.

decode.py turns uploaded bytes into a picture safely (formats, sizes, limits, typed errors);
imageops.py is the array toolkit the stages share; inputs.py turns a picture into float arrays and
tells a drawing from a photo or an MNIST crop; paper.py measures a photo's ink against its paper
(colour, light and grain evened out), for both readings. Then two readings over one page stage:
- page.py finds the digits' ink on a drawing or a photo of paper, leaving out rulings, grid lines,
  edges, shadows, colour bands and specks;
- preprocess.py prepares one digit as MNIST does (20x20 box, centre of mass in 28x28), with the steps
  Try it shows; digit.py reads one digit, a photo prepared both by it and from the page stage's ink,
  the likelier reading kept; files.py reads image files with it for the CLI;
- segment.py groups the page's ink into digits (joining a digit's strokes, splitting touching
  digits) and orders them in rows; number.py reads each digit with the model, through the same
  28x28 preparation; annotate.py draws what was read over the picture.
Import the modules themselves (from digitcore.reading import preprocess); this file imports nothing.
"""
