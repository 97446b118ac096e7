"""Safe parsing of untrusted typed text into a real SymPy expression.

The text never reaches ``eval``, ``sympify`` or ``parse_expr``: a hand-written tokenizer with explicit
ASCII character classes feeds a small precedence-climbing parser that builds SymPy objects directly.
Every size that could make SymPy hang is bounded *before* SymPy sees it (text length, nesting depth,
digits, exponents, values of constant subexpressions).

Grammar (loosest to tightest)::

    expression := term (('+' | '-') term)*
    term       := signed (('*' | '/') signed | <implicit> power)*     2x, 3(x+1), (x+1)(x-1), x y
    signed     := ('+' | '-')* power                                  -x^2 is -(x^2)
    power      := atom (('^' | '**') signed-atom)*                    right-associative: 2^3^2 = 2^9
    atom       := number | constant | variable | function '(' expression (',' expression)* ')'
                | '(' expression ')'

Choices worth knowing:

- A run of letters that is not a known name is split into one-letter variables (``xy`` is x*y,
  ``xy2`` is x*y2), but only up to 3 letters: a longer unknown word is almost always a typo of a
  function name and is reported as such. Names containing digits or ``_`` stay whole (``x10``, ``x_1``).
- ``π`` is accepted as pi, and the pasted symbols ``−`` (minus sign), ``×`` and ``·`` as operators.
  Every other non-ASCII character is refused (no NFKC normalisation: fullwidth letters are not ASCII).
- ``e`` and ``E`` are Euler's number; ``I`` and a ``j`` glued to a number are refused (no complex numbers).
  ``i`` and ``j`` on their own are ordinary variables.
- Decimals become ``sympy.Float`` (the LaTeX shows 0.15, as typed); integers stay exact.
- A function of a constant (``sin(1)``) stays exact when its argument is simple; a function of a
  function of a constant (``sin(cos(exp(1)))``) is folded to a Float computed with Python's ``math``,
  because SymPy's automatic evaluation of such towers can run for minutes.
"""

from __future__ import annotations

import builtins
import difflib
import keyword
import math
import re
import unicodedata
from dataclasses import dataclass
from collections.abc import Callable
from typing import NamedTuple

import sympy

__all__ = ["FormulaError", "ParsedFormula", "parse_formula", "read_formula", "NAMED_FUNCTIONS", "NAMED_CONSTANTS", "GREEK_NAMES"]

MAX_LENGTH = 2000
MAX_DEPTH = 100  # parentheses, checked in the tokenizer so the recursive parser stays shallow
MAX_EXPRESSION_DEPTH = 50  # operator levels (x^x^x^..., sin(sin(...))): deeper trees make SymPy recurse past its limit
MAX_TOKENS = 2000
MAX_NAME_LENGTH = 20
MAX_DIGITS = 300
MAX_LOG10 = 300  # constants must stay within 1e-300 .. 1e300 in magnitude (floats reach 1.8e308)
MAX_SYMBOLIC_EXPONENT = 1000
EXACT_ARGUMENT_LIMIT = 1e6  # larger constant arguments are folded to Float instead of given to SymPy
MAX_MIN_MAX_ARGS = 8  # also counted after nesting: max(max(a, b), c) is max(a, b, c) to SymPy
MAX_SPLIT_LETTERS = 3  # "xyz" is x*y*z; "sinx" is a typo, not s*i*n*x


class FormulaError(ValueError):
    """A formula the student typed cannot be used; ``str(err)`` is the message to show them."""

    def __init__(self, message: str, column: int | None = None) -> None:
        self.message = message
        self.column = column
        super().__init__(message if column is None else f"{message} at column {column}")

    def __reduce__(self):  # keep message and column when sent back from a worker process
        return (type(self), (self.message, self.column))


# --------------------------------------------------------------------------------------------------
# Names the student can type
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _FunctionSpec:
    build: Callable[..., sympy.Expr]  # SymPy arguments -> SymPy expression
    value: Callable[..., float]  # float arguments -> float (for constant arguments, never via SymPy)
    min_args: int = 1
    max_args: int | None = 1  # None: any number
    levels: int = 1  # tree levels the function adds (sigmoid is 1/(1+exp(-x)): four)


def _sigmoid_value(v: float) -> float:
    # Two branches so that exp never overflows.
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    z = math.exp(v)
    return z / (1.0 + z)


def _softplus_value(v: float) -> float:
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


def _sign_value(v: float) -> float:
    return 0.0 if v == 0 else math.copysign(1.0, v)


def _log_value(v: float, base: float | None = None) -> float:
    return math.log(v) if base is None else math.log(v) / math.log(base)


def _log_build(arg: sympy.Expr, base: sympy.Expr | None = None) -> sympy.Expr:
    return sympy.log(arg) if base is None else sympy.log(arg, base)


_FUNCTIONS: dict[str, _FunctionSpec] = {
    "sin": _FunctionSpec(sympy.sin, math.sin),
    "cos": _FunctionSpec(sympy.cos, math.cos),
    "tan": _FunctionSpec(sympy.tan, math.tan),
    "cot": _FunctionSpec(sympy.cot, lambda v: 1.0 / math.tan(v)),
    "sec": _FunctionSpec(sympy.sec, lambda v: 1.0 / math.cos(v)),
    "csc": _FunctionSpec(sympy.csc, lambda v: 1.0 / math.sin(v)),
    "exp": _FunctionSpec(sympy.exp, math.exp),
    "log": _FunctionSpec(_log_build, _log_value, 1, 2, levels=2),
    "ln": _FunctionSpec(sympy.log, math.log),
    "log10": _FunctionSpec(lambda a: sympy.log(a, 10), math.log10, levels=2),
    "log2": _FunctionSpec(lambda a: sympy.log(a, 2), math.log2, levels=2),
    "sqrt": _FunctionSpec(sympy.sqrt, math.sqrt),
    "abs": _FunctionSpec(sympy.Abs, abs),
    "sinh": _FunctionSpec(sympy.sinh, math.sinh),
    "cosh": _FunctionSpec(sympy.cosh, math.cosh),
    "tanh": _FunctionSpec(sympy.tanh, math.tanh),
    "asin": _FunctionSpec(sympy.asin, math.asin),
    "acos": _FunctionSpec(sympy.acos, math.acos),
    "atan": _FunctionSpec(sympy.atan, math.atan),
    "arcsin": _FunctionSpec(sympy.asin, math.asin),
    "arccos": _FunctionSpec(sympy.acos, math.acos),
    "arctan": _FunctionSpec(sympy.atan, math.atan),
    "asinh": _FunctionSpec(sympy.asinh, math.asinh),
    "acosh": _FunctionSpec(sympy.acosh, math.acosh),
    "atanh": _FunctionSpec(sympy.atanh, math.atanh),
    "atan2": _FunctionSpec(sympy.atan2, math.atan2, 2, 2),
    # SymPy compares Min/Max arguments pairwise: 20 arguments take seconds, 40 take minutes to differentiate.
    "min": _FunctionSpec(sympy.Min, min, 2, MAX_MIN_MAX_ARGS),
    "max": _FunctionSpec(sympy.Max, max, 2, MAX_MIN_MAX_ARGS),
    "sign": _FunctionSpec(sympy.sign, _sign_value),
    "floor": _FunctionSpec(sympy.floor, lambda v: float(math.floor(v))),
    "ceil": _FunctionSpec(sympy.ceiling, lambda v: float(math.ceil(v))),
    "erf": _FunctionSpec(sympy.erf, math.erf),
    "sigmoid": _FunctionSpec(lambda a: 1 / (1 + sympy.exp(-a)), _sigmoid_value, levels=4),
    "softplus": _FunctionSpec(lambda a: sympy.log(1 + sympy.exp(a)), _softplus_value, levels=3),
    "relu": _FunctionSpec(lambda a: sympy.Max(a, 0), lambda v: max(v, 0.0)),
}

NAMED_FUNCTIONS: tuple[str, ...] = tuple(sorted(_FUNCTIONS))

_CONSTANTS: dict[str, tuple[sympy.Expr, float]] = {
    "pi": (sympy.pi, math.pi),
    "e": (sympy.E, math.e),
    "E": (sympy.E, math.e),
}
NAMED_CONSTANTS: tuple[str, ...] = ("e", "pi")

GREEK_NAMES: tuple[str, ...] = (
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega",
)
_VARIABLE_ALIASES = {"lam": "lambda"}  # "lam" is how people avoid Python's keyword; same variable

_REFUSED_NAMES = {
    "I": "complex numbers are not supported ('I' is the imaginary unit)",
    "oo": "infinity is not allowed in a formula",
    "inf": "infinity is not allowed in a formula",
    "infinity": "infinity is not allowed in a formula",
    "nan": "'nan' is not allowed in a formula",
    "zoo": "infinity is not allowed in a formula",
}
_REFUSED_NAMES.update({"factorial": "factorial is not supported"})

# Words that only make sense as code. Never executed anyway; refusing them gives a clearer message
# than silently reading "import" as i*m*p*o*r*t.
_CODE_WORDS = frozenset(
    word
    for word in (*keyword.kwlist, *dir(builtins))
    if len(word) >= 2 and word.isalpha() and word not in _FUNCTIONS and word not in GREEK_NAMES
)

_KNOWN_WORDS = (*NAMED_FUNCTIONS, *GREEK_NAMES, "pi")

# Pasted symbols with one obvious meaning; mapped by exact code point, never by normalisation.
_PASTED_OPERATORS = {"\u2212": "-", "\u00d7": "*", "\u00b7": "*"}

_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset("0123456789")
_NAME_CHARS = _ASCII_LETTERS | _DIGITS | {"_"}
_SPACES = frozenset(" \t")

_UNEXPECTED_MESSAGES = {
    "=": "'=' is not allowed: type only the expression to minimise, e.g. x^2 + y^2",
    "<": "comparisons ('<') are not supported: type only the expression to minimise",
    ">": "comparisons ('>') are not supported: type only the expression to minimise",
    "!": "'!' is not supported (no factorials or comparisons)",
    "\\": "backslash: LaTeX is not supported; type x^2/2 instead of \\frac{x^2}{2}",
    "'": "quotes are not allowed: a formula contains no text",
    '"': "quotes are not allowed: a formula contains no text",
    "`": "quotes are not allowed: a formula contains no text",
    "[": "square brackets are not supported; use ( )",
    "]": "square brackets are not supported; use ( )",
    "{": "curly braces are not supported; use ( )",
    "}": "curly braces are not supported; use ( )",
    "_": "names cannot start with '_'",
    ".": "unexpected '.'",
    ";": "unexpected ';': a formula is a single expression",
    ":": "unexpected ':'",
    "\n": "unexpected line break: a formula is a single line",
    "\r": "unexpected line break: a formula is a single line",
}


# --------------------------------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Token:
    kind: str  # "number" | "constant" | "variable" | "function" | "op" | "(" | ")" | "," | "end"
    text: str  # as shown in messages ("**" stays "**" although it means "^")
    column: int  # 1-based
    value: sympy.Expr | None = None  # number/constant: SymPy value; variable: Symbol
    number: float | None = None  # number/constant: float value


def _describe(ch: str) -> str:
    if ch.isprintable() and not ch.isspace():
        return f"'{ch}' (U+{ord(ch):04X})"
    return f"U+{ord(ch):04X}"


def _bad_character(ch: str, column: int) -> FormulaError:
    if ch in _UNEXPECTED_MESSAGES:
        return FormulaError(_UNEXPECTED_MESSAGES[ch], column)
    if unicodedata.category(ch).startswith("L"):
        return FormulaError(
            f"the letter {_describe(ch)} is not allowed: names use plain ASCII letters a-z", column
        )
    if ch.isascii() and ch.isprintable():
        return FormulaError(f"unexpected character '{ch}'", column)
    return FormulaError(f"the character {_describe(ch)} is not allowed", column)


def _number_token(text: str, start: int) -> tuple[_Token, int]:
    """Read a decimal literal at ``start``; refuse huge ones before converting anything."""
    i, n = start, len(text)
    while i < n and text[i] in _DIGITS:
        i += 1
    integer_digits = text[start:i]
    fraction_digits = ""
    has_point = i < n and text[i] == "."
    if has_point:
        i += 1
        fraction_start = i
        while i < n and text[i] in _DIGITS:
            i += 1
        fraction_digits = text[fraction_start:i]
    exponent_text = ""
    if i < n and text[i] in "eE":
        # "2e3" is a number, "2e" and "2ex" are 2*e and 2*e*x.
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and text[j] in _DIGITS:
            exponent_start = i + 1
            i = j
            while i < n and text[i] in _DIGITS:
                i += 1
            exponent_text = text[exponent_start:i]
    literal = text[start:i]
    column = start + 1
    if i < n and text[i] == ".":
        raise FormulaError("unexpected '.' after a number", i + 1)

    digits = integer_digits + fraction_digits
    if len(digits) > MAX_DIGITS:
        raise FormulaError(f"number too long (more than {MAX_DIGITS} digits)", column)
    significant = digits.lstrip("0")
    if significant:
        # Decimal order of magnitude from the digit strings, so 1e100000000 is never converted.
        stripped_integer = integer_digits.lstrip("0")
        if stripped_integer:
            order = len(stripped_integer) - 1
        else:
            order = -(len(fraction_digits) - len(fraction_digits.lstrip("0")) + 1)
        exponent_digits = exponent_text.lstrip("+-").lstrip("0")
        if len(exponent_digits) > 6:
            order += -10**7 if exponent_text.startswith("-") else 10**7
        elif exponent_digits:
            order += int(exponent_text)
        if order >= MAX_LOG10:
            raise FormulaError("number too large", column)
        if order < -MAX_LOG10:
            raise FormulaError("number too small", column)

    if has_point or exponent_text:
        value: sympy.Expr = sympy.Float(literal)
        number = float(literal)
    else:
        value = sympy.Integer(int(literal))
        number = float(int(literal))
    return _Token("number", literal, column, value, number), i


def _suggestion(word: str) -> str:
    close = difflib.get_close_matches(word, _KNOWN_WORDS, n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


def _variable(name: str, column: int) -> _Token:
    if len(name) > MAX_NAME_LENGTH:
        raise FormulaError(f"name '{name[:MAX_NAME_LENGTH]}…' is too long (at most {MAX_NAME_LENGTH})", column)
    return _Token("variable", name, column, sympy.Symbol(name, real=True))


def _single_letter(letter: str, digits: str, column: int) -> _Token:
    if not digits and letter in _CONSTANTS:
        value, number = _CONSTANTS[letter]
        return _Token("constant", letter, column, value, number)
    if not digits and letter in _REFUSED_NAMES:
        raise FormulaError(_REFUSED_NAMES[letter], column)
    return _variable(letter + digits, column)


def _name_tokens(word: str, column: int, followed_by_paren: bool, after_number: bool,
                 notices: list[str] | None = None) -> list[_Token]:
    """Turn an identifier run (ASCII letters, digits, '_', starting with a letter) into tokens.

    Readings a student may not expect are added to `notices` (gamma(x) is the variable gamma times
    x; pix is p*i*x; ex is e*x with Euler's e)."""
    notices = notices if notices is not None else []
    if "__" in word:
        raise FormulaError(f"names cannot contain '__' ('{word[:MAX_NAME_LENGTH]}')", column)
    if after_number and word in ("j", "J"):
        raise FormulaError("complex numbers are not supported", column)
    if word in _FUNCTIONS:
        if not followed_by_paren:
            raise FormulaError(f"'{word}' is a function: write {word}(...)", column)
        return [_Token("function", word, column)]
    if word in _REFUSED_NAMES:
        raise FormulaError(_REFUSED_NAMES[word], column)
    if word in _CONSTANTS:
        value, number = _CONSTANTS[word]
        return [_Token("constant", word, column, value, number)]
    if word in GREEK_NAMES or word in _VARIABLE_ALIASES or "_" in word:
        name = _VARIABLE_ALIASES.get(word, word)
        if followed_by_paren and name in GREEK_NAMES:
            notices.append(f"read {word}(...) as the variable {name} times (...): there is no {word} "
                           f"function here; write {word}*(...) to say so")
        return [_variable(name, column)]
    letters_only = word.isalpha()
    if followed_by_paren and letters_only and len(word) > 2:
        raise FormulaError(f"unknown function '{word}'{_suggestion(word)}", column)
    if word in _CODE_WORDS:
        raise FormulaError(f"'{word}' is not part of the formula language", column)

    tokens: list[_Token] = []
    for match in re.finditer(r"([A-Za-z]+)([0-9]*)", word):
        letters, digits = match.group(1), match.group(2)
        at = column + match.start()
        if len(letters) == 1 or letters in GREEK_NAMES:
            tokens.append(_single_letter(letters, digits, at) if len(letters) == 1 else _variable(letters + digits, at))
        elif letters in _FUNCTIONS:
            raise FormulaError(f"'{letters}' is a function: write {letters}(...)", at)
        elif len(letters) > MAX_SPLIT_LETTERS:
            raise FormulaError(
                f"unknown name '{letters}'{_suggestion(letters)} (to multiply variables, write x*y)", at
            )
        else:
            for k, letter in enumerate(letters):
                last = k == len(letters) - 1
                tokens.append(_single_letter(letter, digits if last else "", at + k))
            product = "·".join(letters[:-1]) + "·" + letters[-1] + digits
            if "pi" in letters:
                notices.append(f"read '{letters}{digits}' as {product}; for π write pi with a space or *, e.g. pi x")
            elif "e" in letters:
                notices.append(f"read '{letters}{digits}' as {product}, where e is Euler's number 2.718…")
    return tokens


def _closes_bar(tokens: list[_Token], open_kinds: list[str]) -> bool:
    """A '|' closes when the innermost open bracket is a '|' and an operand has just ended
    (|x||y| is |x|·|y|; ||x|| is abs(abs(x)))."""
    return bool(open_kinds) and open_kinds[-1] == "|" and bool(tokens) and \
        tokens[-1].kind in ("number", "constant", "variable", ")")


def _tokenize(text: str, notices: list[str] | None = None) -> list[_Token]:
    tokens: list[_Token] = []
    open_columns: list[int] = []  # columns of unclosed '(' — balance and depth checked here, not by recursion
    open_kinds: list[str] = []  # "(" or "|" for each of them
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        column = i + 1
        if ch in _SPACES:
            i += 1
            continue
        ch = _PASTED_OPERATORS.get(ch, ch)
        if ch in _DIGITS or (ch == "." and i + 1 < n and text[i + 1] in _DIGITS):
            token, i = _number_token(text, i)
            tokens.append(token)
        elif ch in _ASCII_LETTERS:
            j = i
            while j < n and text[j] in _NAME_CHARS:
                j += 1
            word = text[i:j]
            k = j
            while k < n and text[k] in _SPACES:
                k += 1
            followed_by_paren = k < n and text[k] == "("
            after_number = bool(tokens) and tokens[-1].kind == "number" and text[i - 1] not in _SPACES
            tokens.extend(_name_tokens(word, column, followed_by_paren, after_number, notices))
            i = j
        elif ch == "\u03c0":  # π
            tokens.append(_Token("constant", "π", column, sympy.pi, math.pi))
            i += 1
        elif ch in "+-/^":
            tokens.append(_Token("op", ch, column))
            i += 1
        elif ch == "*":
            if i + 1 < n and text[i + 1] == "*":
                tokens.append(_Token("op", "**", column))
                i += 2
            else:
                tokens.append(_Token("op", "*", column))
                i += 1
        elif ch == "(" or (ch == "|" and not _closes_bar(tokens, open_kinds)):
            open_columns.append(column)
            open_kinds.append(ch)
            if len(open_columns) > MAX_DEPTH:
                raise FormulaError(f"too many nested parentheses (more than {MAX_DEPTH})", column)
            if ch == "|":  # |x| is abs(x)
                tokens.append(_Token("function", "abs", column))
            tokens.append(_Token("(", ch, column))
            i += 1
        elif ch in ")|":
            if not open_columns:
                raise FormulaError("unexpected ')'", column)
            if open_kinds[-1] != ch.replace(")", "("):
                opened = "'|'" if open_kinds[-1] == "|" else "'('"
                raise FormulaError(f"unexpected '{ch}': the {opened} at column {open_columns[-1]} "
                                   "is not closed yet", column)
            open_columns.pop()
            open_kinds.pop()
            tokens.append(_Token(")", ch, column))
            i += 1
        elif ch == ",":
            tokens.append(_Token(",", ch, column))
            i += 1
        else:
            raise _bad_character(text[i], column)
        if len(tokens) > MAX_TOKENS:
            raise FormulaError(f"the formula is too long (more than {MAX_TOKENS} symbols)", column)
    if open_columns:
        hint = " (|x| is the absolute value, abs(x))" if open_kinds[-1] == "|" else ""
        raise FormulaError(f"'{open_kinds[-1]}' is never closed{hint}", open_columns[-1])
    tokens.append(_Token("end", "", n + 1))
    return tokens


# --------------------------------------------------------------------------------------------------
# Values: a SymPy expression plus, for constants, its float value (computed without SymPy)
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Value:
    expr: sympy.Expr
    number: float | None  # the value when expr has no variable; used to bound constants cheaply
    depth: int = 0  # operator levels below this node (a slight overestimate of SymPy's tree depth)


def _deeper(values: list[_Value], column: int | None, extra: int = 1) -> int:
    depth = max(v.depth for v in values) + extra
    if depth > MAX_EXPRESSION_DEPTH:
        raise FormulaError(f"the formula is nested too deeply (more than {MAX_EXPRESSION_DEPTH} levels)", column)
    return depth


def _checked(number: float, column: int | None) -> float:
    if math.isnan(number):
        raise FormulaError("this constant is not a real number", column)
    if math.isinf(number) or abs(number) > 10.0**MAX_LOG10:
        raise FormulaError("constant too large", column)
    return number


_FLOAT_OF_CLASS: dict[type, Callable[..., float]] = {
    sympy.sin: math.sin, sympy.cos: math.cos, sympy.tan: math.tan,
    sympy.cot: lambda v: 1.0 / math.tan(v), sympy.sec: lambda v: 1.0 / math.cos(v),
    sympy.csc: lambda v: 1.0 / math.sin(v), sympy.exp: math.exp, sympy.log: math.log,
    sympy.Abs: abs, sympy.sinh: math.sinh, sympy.cosh: math.cosh, sympy.tanh: math.tanh,
    sympy.asin: math.asin, sympy.acos: math.acos, sympy.atan: math.atan, sympy.asinh: math.asinh,
    sympy.acosh: math.acosh, sympy.atanh: math.atanh, sympy.atan2: math.atan2, sympy.Min: min,
    sympy.Max: max, sympy.sign: _sign_value, sympy.floor: lambda v: float(math.floor(v)),
    sympy.ceiling: lambda v: float(math.ceil(v)), sympy.erf: math.erf,
}


def _float_of(expr: sympy.Expr, column: int | None) -> float:
    """Float value of a constant SymPy expression using only ``math`` (no evalf, which can hang)."""
    try:
        if expr.is_Number:
            return _checked(float(expr), column)
        if expr is sympy.pi:
            return math.pi
        if expr is sympy.E:
            return math.e
        args = [_float_of(arg, column) for arg in expr.args]
        if expr.is_Add:
            return _checked(math.fsum(args), column)
        if expr.is_Mul:
            return _checked(math.prod(args), column)
        if expr.is_Pow:
            base, exponent = args
            _check_constant_power(base, exponent, column)
            return _checked(base**exponent, column)
        function = _FLOAT_OF_CLASS.get(type(expr))
        if function is None:
            raise FormulaError("this formula contains a constant that cannot be evaluated", column)
        return _checked(float(function(*args)), column)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError) as err:
        if isinstance(err, FormulaError):
            raise
        raise FormulaError("a constant in this formula is undefined or too large", column) from None


def _value(expr: sympy.Expr, number: float | None, column: int | None, depth: int) -> _Value:
    if number is None and not expr.free_symbols:
        # Variables cancelled (x - x, x*pi/x): we still need the constant's size.
        number = _float_of(expr, column)
    return _Value(expr, number, depth)


def _check_constant_power(base: float, exponent: float, column: int | None) -> None:
    if base == 0:
        if exponent < 0:
            raise FormulaError("division by zero (0 to a negative power)", column)
        return
    if base < 0 and not float(exponent).is_integer():
        raise FormulaError("a negative number to a fractional power is not a real number", column)
    order = exponent * math.log10(abs(base))
    if order > MAX_LOG10:
        raise FormulaError("constant too large", column)
    if order < -MAX_LOG10:
        raise FormulaError("constant too small", column)


def _power(base: _Value, exponent: _Value, column: int) -> _Value:
    depth = _deeper([base, exponent], column)
    if base.number is not None and exponent.number is not None:
        _check_constant_power(base.number, exponent.number, column)
        number = _checked(base.number**exponent.number, column)
        return _value(sympy.Pow(base.expr, exponent.expr), number, column, depth)
    if base.number is not None and base.number < 0:
        raise FormulaError(
            "a negative number to a variable power is not real-valued ((-2)^x is complex for x = 1/2); "
            "write -(2^x), or cos(pi x) for (-1)^x at whole numbers", column
        )
    if exponent.number is not None and abs(exponent.number) > MAX_SYMBOLIC_EXPONENT:
        raise FormulaError(f"exponent too large (at most {MAX_SYMBOLIC_EXPONENT})", column)
    return _value(sympy.Pow(base.expr, exponent.expr), None, column, depth)


def _negate(value: _Value, column: int) -> _Value:
    number = None if value.number is None else -value.number
    return _value(-value.expr, number, column, _deeper([value], column))


def _sum(values: list[_Value], column: int) -> _Value:
    if len(values) == 1:
        return values[0]
    number = None
    if all(v.number is not None for v in values):
        number = _checked(math.fsum(v.number for v in values), column)
    return _value(sympy.Add(*(v.expr for v in values)), number, column, _deeper(values, column))


def _product(values: list[_Value], column: int) -> _Value:
    if len(values) == 1:
        return values[0]
    constant_part = 1.0
    for v in values:  # the constant factors are bounded even beside variables (10^300 10^300 x)
        if v.number is not None:
            constant_part = _checked(constant_part * v.number, column)  # as we go: no inf*0
    number = constant_part if all(v.number is not None for v in values) else None
    return _value(sympy.Mul(*(v.expr for v in values)), number, column, _deeper(values, column))


def _is_simple_constant(value: _Value) -> bool:
    """Safe to hand to SymPy's automatic evaluation: no function inside, moderate size."""
    return (
        value.number is not None
        and abs(value.number) <= EXACT_ARGUMENT_LIMIT
        and not value.expr.atoms(sympy.Function)
    )


def _apply(name: str, args: list[_Value], column: int) -> _Value:
    spec = _FUNCTIONS[name]
    depth = _deeper(args, column, spec.levels)
    if spec.build in (sympy.Min, sympy.Max):
        flattened = sum(len(a.expr.args) if isinstance(a.expr, (sympy.Min, sympy.Max)) else 1 for a in args)
        if flattened > MAX_MIN_MAX_ARGS:
            raise FormulaError(f"{name} of more than {MAX_MIN_MAX_ARGS} values is not supported", column)
    if all(arg.number is not None for arg in args):
        try:
            number = float(spec.value(*(arg.number for arg in args)))
        except (ValueError, ZeroDivisionError):
            raise FormulaError(f"{name}(...) of this constant is undefined", column) from None
        except OverflowError:
            raise FormulaError("constant too large", column) from None
        number = _checked(number, column)
        if all(_is_simple_constant(arg) for arg in args):
            return _value(spec.build(*(arg.expr for arg in args)), number, column, depth)
        return _Value(sympy.Float(number), number)  # towers of functions of constants: fold
    return _value(spec.build(*(arg.expr for arg in args)), None, column, depth)


# --------------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------------

_ATOM_STARTS = frozenset({"number", "constant", "variable", "function", "("})
_IMPLICIT_STARTS = frozenset({"constant", "variable", "function", "("})  # not "number": "x 2" is a typo


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> _Token:
        return self.tokens[self.position]

    def advance(self) -> _Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def previous(self) -> _Token | None:
        return self.tokens[self.position - 1] if self.position > 0 else None

    def parse(self) -> _Value:
        value = self.expression()
        token = self.peek()
        if token.kind != "end":
            raise self.unexpected(token)
        return value

    def unexpected(self, token: _Token) -> FormulaError:
        if token.kind == ",":
            return FormulaError("unexpected ',': commas only separate function arguments", token.column)
        if token.kind == "number":
            return FormulaError(f"missing operator before the number '{token.text}'", token.column)
        return FormulaError(f"unexpected '{token.text}'", token.column)

    def missing_operand(self) -> FormulaError:
        """The parser wanted a number, variable or '(' and found something else."""
        token, before = self.peek(), self.previous()
        if token.kind == "end":
            if before is not None and before.kind == "op":
                return FormulaError(f"nothing after '{before.text}'", before.column)
            return FormulaError("the formula ends too early", token.column)
        if token.kind == "op":
            if before is not None and before.kind == "op":
                return FormulaError(f"two operators in a row ('{before.text}' then '{token.text}')", token.column)
            return FormulaError(f"'{token.text}' has nothing before it", token.column)
        if token.kind == ")" and before is not None and before.kind == "(":
            return FormulaError("empty parentheses", before.column)
        if token.kind in (")", ",") and before is not None and before.kind in ("op", ","):
            return FormulaError(f"nothing after '{before.text}'", before.column)
        return self.unexpected(token)

    def expression(self) -> _Value:
        terms = [self.term()]
        while self.peek().kind == "op" and self.peek().text in "+-":
            operator = self.advance()
            term = self.term()
            terms.append(term if operator.text == "+" else _negate(term, operator.column))
        return _sum(terms, self.tokens[self.position - 1].column)

    def term(self) -> _Value:
        start = self.peek().column
        factors = [self.signed()]
        while True:
            token = self.peek()
            if token.kind == "op" and token.text in ("*", "/"):
                self.advance()
                factor = self.signed()
                if token.text == "/":
                    if factor.number == 0:
                        raise FormulaError("division by zero", token.column)
                    factor = _power(factor, _Value(sympy.Integer(-1), -1.0), token.column)
                factors.append(factor)
            elif token.kind in _IMPLICIT_STARTS:
                factors.append(self.signed())  # implicit multiplication: 2x, x y, (x+1)(x-1)
            elif token.kind == "number":
                raise self.unexpected(token)
            else:
                return _product(factors, start)

    def signed(self) -> _Value:
        # Signs are collected in a loop (not recursion) so "------x" cannot exhaust the stack.
        negative, sign_column = False, None
        while self.peek().kind == "op" and self.peek().text in "+-":
            token = self.advance()
            negative ^= token.text == "-"
            sign_column = token.column
        value = self.power()
        return _negate(value, sign_column) if negative else value

    def power(self) -> _Value:
        # Right-associative and iterative: a^-b^c = a^(-(b^c)).
        operands: list[tuple[_Value, bool, int]] = [(self.atom(), False, 0)]
        while self.peek().kind == "op" and self.peek().text in ("^", "**"):
            operator = self.advance()
            negative = False
            while self.peek().kind == "op" and self.peek().text in "+-":
                negative ^= self.advance().text == "-"
            if len(operands) > MAX_EXPRESSION_DEPTH:  # refuse long towers before SymPy builds any of it
                raise FormulaError(
                    f"the formula is nested too deeply (more than {MAX_EXPRESSION_DEPTH} levels)", operator.column
                )
            operands.append((self.atom(), negative, operator.column))
        result, negative, column = operands[-1]
        if negative:
            result = _negate(result, column)
        for index in range(len(operands) - 2, -1, -1):
            base, base_negative, _ = operands[index]
            result = _power(base, result, operands[index + 1][2])
            if base_negative:
                result = _negate(result, operands[index + 1][2])
        return result

    def atom(self) -> _Value:
        token = self.peek()
        if token.kind in ("number", "constant", "variable"):
            self.advance()
            return _Value(token.value, token.number)
        if token.kind == "function":
            return self.call()
        if token.kind == "(":
            self.advance()
            if self.peek().kind == ")":
                raise FormulaError("empty parentheses", token.column)
            value = self.expression()
            self.expect_close()
            return value
        raise self.missing_operand()

    def call(self) -> _Value:
        name_token = self.advance()
        name = name_token.text
        self.advance()  # '(' — the tokenizer only makes a function token when one follows
        if self.peek().kind == ")":
            raise FormulaError(f"{name}() needs an argument", name_token.column)
        args = [self.expression()]
        while self.peek().kind == ",":
            self.advance()
            args.append(self.expression())
        self.expect_close()
        spec = _FUNCTIONS[name]
        if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
            raise FormulaError(f"{name} takes {_arity_text(spec)}, got {len(args)}", name_token.column)
        return _apply(name, args, name_token.column)

    def expect_close(self) -> None:
        token = self.peek()
        if token.kind != ")":
            raise self.missing_operand() if token.kind in ("end", "op") else self.unexpected(token)
        self.advance()


def _arity_text(spec: _FunctionSpec) -> str:
    if spec.max_args is None:
        return f"at least {spec.min_args} arguments"
    if spec.min_args == spec.max_args:
        return f"{spec.min_args} argument" + ("s" if spec.min_args > 1 else "")
    return f"{spec.min_args} to {spec.max_args} arguments"


def _natural_key(name: str) -> tuple:
    """x < X < x1 < x2 < x10 < y: digit runs compare as numbers; case only breaks ties."""
    chunks = tuple(
        (0, int(chunk), "") if chunk.isdigit() else (1, 0, chunk.lower())
        for chunk in re.findall(r"\d+|\D+", name)
    )
    return chunks, name.swapcase()


class ParsedFormula(NamedTuple):
    expr: sympy.Expr
    names: tuple[str, ...]
    notices: tuple[str, ...]  # how ambiguous text was read ("read pix as p·i·x"), for the student to see


def parse_formula(text: str) -> tuple[sympy.Expr, tuple[str, ...]]:
    """Parse what a student typed into a real SymPy expression and its variable names.

    >>> parse_formula("(1-x)^2 + 100(y-x^2)^2")[1]
    ('x', 'y')

    Raises FormulaError (a ValueError) with a message and, where known, a 1-based column.
    """
    parsed = read_formula(text)
    return parsed.expr, parsed.names


def read_formula(text: str) -> ParsedFormula:
    """`parse_formula` plus the notices of how ambiguous names were read."""
    if not isinstance(text, str):
        raise FormulaError("the formula must be text")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is too long ({len(text)} characters; at most {MAX_LENGTH})")
    if not text.strip(" \t"):
        raise FormulaError("type a formula, e.g. x^2 + 3y^2")
    notices: list[str] = []
    value = _Parser(_tokenize(text, notices)).parse()
    expr = value.expr
    if expr.has(sympy.I):
        raise FormulaError("complex numbers are not supported")
    if expr.has(sympy.zoo, sympy.oo, sympy.S.NegativeInfinity, sympy.nan):
        raise FormulaError("the formula is undefined (division by zero?)")
    names = tuple(sorted((s.name for s in expr.free_symbols), key=_natural_key))
    if not names:
        raise FormulaError("the formula has no variable")
    return ParsedFormula(expr, names, tuple(dict.fromkeys(notices)))
