"""The demo district's standards, assessments, scores and mastery estimates (a seed step).

`seed_assessments` runs after the families step (students and their sections exist) and before
the logins. Everything is drawn from the step's own random streams, so the same seed and the same
`today` give the same rows.

- Standards: a Common Core subset (framework "CCSS", source_system "demo") for Mathematics and
  English Language Arts, K-12, NGSS for Science and the C3 Framework for Social Studies (grades
  6-12), as domain -> cluster -> standard rows (real codes, paraphrased descriptions, a short
  family-friendly description).
- Assessments: for every section, a quiz or task every one or two weeks from the first day of
  school to today (or the last day), aligned to 1-3 standards of its grade. The standards are
  taught one after another across the year and revisited later; each unit ends with a summative
  unit test. Per grade, in Mathematics and ELA, one district-wide interim (no section), with four
  performance levels.
- Scores: each student has an ability and, per standard, a learning rate (fast, medium or
  stalling); the chance of a point rises with the practice the student had on the standard.
  About 3% of scores are missing and 0.7% exempt. Mid-year arrivals are scored from the day they
  entered.
- Replay: the year is lived a fortnight at a time in date order through the production path
  (`scores_record`, then `estimates_recompute` on the estimates touched, as the mastery task
  does); the learned model is fitted once a month of evidence exists and every estimate rebuilt
  under it. So each estimate's history has dated points, and "levels as of a date" shows the
  levels that held then.
- Scale: about SCORE_ROWS_CAP scores at most (the replay writes about 900 a second on
  PostgreSQL at 86,000 students, recomputes included). The default 1,800 students write ~80k by
  December, all of them. Past the cap (`--students 86000`) the demo logins' sections (the
  teacher's, the parent's children's, every section of the principal's school) get all their
  scores, the large high school's sections ROLLUP_SCHOOL_ASSESSMENTS each (its rollups then
  have a start and an end), and the budget left gives the other sections one assessment each,
  a school at a time in turn, so that every school has scored sections and the replay's work
  spreads over the year.
"""

import math
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import reset_queries

from assessments.engine import estimates_recompute
from assessments.models import (
    Assessment,
    AssessmentKind,
    AssessmentPurpose,
    LearnerState,
    MasteryEstimate,
    MasteryEstimateHistory,
    MasteryEvidence,
    PerformanceLevel,
    Score,
    ScoreSource,
    ScoreStatus,
    Standard,
    StandardKind,
    StudentAssessment,
)
from assessments.services import ScoreInput, mastery_model_fit, scores_record
from demo.parent_descriptions import SPANISH
from students.models import Section

if TYPE_CHECKING:
    from demo.district import DemoBuild

DEMO_SOURCE = "demo"
FRAMEWORK = "CCSS"
MATH, ELA = "Mathematics", "English Language Arts"
SCIENCE, SOCIAL_STUDIES = "Science", "Social Studies"
SCORE_ROWS_CAP = 200_000
ROLLUP_SCHOOL_ASSESSMENTS = 4
RECOMPUTE_BATCH = 2000
REPLAY_WEEKS = 2  # the replay records and recomputes a fortnight's scores at a time
MISSING_RATE, EXEMPT_RATE = 0.03, 0.007

MATH_DOMAINS = {
    "CC": "Counting and Cardinality",
    "OA": "Operations and Algebraic Thinking",
    "NBT": "Number and Operations in Base Ten",
    "NF": "Number and Operations—Fractions",
    "MD": "Measurement and Data",
    "G": "Geometry",
    "RP": "Ratios and Proportional Relationships",
    "NS": "The Number System",
    "EE": "Expressions and Equations",
    "F": "Functions",
    "SP": "Statistics and Probability",
    "SSE": "Seeing Structure in Expressions",
    "REI": "Reasoning with Equations and Inequalities",
    "CED": "Creating Equations",
    "IF": "Interpreting Functions",
    "BF": "Building Functions",
    "LE": "Linear, Quadratic, and Exponential Models",
    "TF": "Trigonometric Functions",
    "APR": "Arithmetic with Polynomials and Rational Expressions",
    "CO": "Congruence",
    "SRT": "Similarity, Right Triangles, and Trigonometry",
    "GMD": "Geometric Measurement and Dimension",
    "ID": "Interpreting Categorical and Quantitative Data",
    "CN": "The Complex Number System",
    "VM": "Vector and Matrix Quantities",
}

# Grade -> [(code after CCSS.MATH.CONTENT., cluster heading, description, for families)].
MATH_STANDARDS: dict[str, list[tuple[str, str, str, str]]] = {
    "KG": [
        (
            "K.CC.A.1",
            "Know number names and the count sequence.",
            "Count to 100 by ones and by tens.",
            "Counts to 100, by ones and by tens.",
        ),
        (
            "K.CC.B.4",
            "Count to tell the number of objects.",
            "Understand the relationship between numbers and quantities; connect counting to "
            "cardinality.",
            "Knows that the last number counted tells how many.",
        ),
        (
            "K.OA.A.1",
            "Understand addition as putting together and subtraction as taking apart.",
            "Represent addition and subtraction with objects, fingers, drawings, sounds or "
            "equations.",
            "Shows adding and taking away with objects and drawings.",
        ),
        (
            "K.OA.A.2",
            "Understand addition as putting together and subtraction as taking apart.",
            "Solve addition and subtraction word problems, and add and subtract within 10.",
            "Solves simple adding and subtracting stories up to 10.",
        ),
        (
            "K.G.A.2",
            "Identify and describe shapes.",
            "Correctly name shapes regardless of their orientations or overall size.",
            "Names circles, squares, triangles and other shapes.",
        ),
    ],
    "01": [
        (
            "1.OA.A.1",
            "Represent and solve problems involving addition and subtraction.",
            "Use addition and subtraction within 20 to solve word problems.",
            "Solves adding and subtracting stories up to 20.",
        ),
        (
            "1.OA.C.6",
            "Add and subtract within 20.",
            "Add and subtract within 20, demonstrating fluency within 10.",
            "Adds and subtracts quickly within 10.",
        ),
        (
            "1.NBT.B.2",
            "Understand place value.",
            "Understand that the two digits of a two-digit number represent tens and ones.",
            "Knows that 34 means 3 tens and 4 ones.",
        ),
        (
            "1.NBT.C.4",
            "Use place value understanding to add and subtract.",
            "Add within 100 using concrete models or drawings and strategies based on place value.",
            "Adds numbers up to 100 using tens and ones.",
        ),
        (
            "1.MD.A.1",
            "Measure lengths indirectly and by iterating length units.",
            "Order three objects by length; compare the lengths of two objects indirectly.",
            "Puts objects in order from shortest to longest.",
        ),
    ],
    "02": [
        (
            "2.OA.A.1",
            "Represent and solve problems involving addition and subtraction.",
            "Use addition and subtraction within 100 to solve one- and two-step word problems.",
            "Solves one- and two-step word problems up to 100.",
        ),
        (
            "2.OA.B.2",
            "Add and subtract within 20.",
            "Fluently add and subtract within 20 using mental strategies.",
            "Knows addition and subtraction facts to 20.",
        ),
        (
            "2.NBT.A.1",
            "Understand place value.",
            "Understand that the three digits of a three-digit number represent hundreds, tens "
            "and ones.",
            "Knows what each digit in a number like 572 means.",
        ),
        (
            "2.NBT.B.5",
            "Use place value understanding to add and subtract.",
            "Fluently add and subtract within 100 using strategies based on place value.",
            "Adds and subtracts two-digit numbers.",
        ),
        (
            "2.MD.C.8",
            "Work with time and money.",
            "Solve word problems involving dollar bills, quarters, dimes, nickels and pennies.",
            "Counts money and solves money problems.",
        ),
    ],
    "03": [
        (
            "3.OA.A.1",
            "Represent and solve problems involving multiplication and division.",
            "Interpret products of whole numbers as the total number of objects in equal groups.",
            "Understands multiplication as equal groups.",
        ),
        (
            "3.OA.C.7",
            "Multiply and divide within 100.",
            "Fluently multiply and divide within 100; know all products of two one-digit numbers.",
            "Knows multiplication facts through 10 x 10.",
        ),
        (
            "3.NBT.A.2",
            "Use place value understanding to perform multi-digit arithmetic.",
            "Fluently add and subtract within 1000 using strategies and algorithms.",
            "Adds and subtracts numbers up to 1000.",
        ),
        (
            "3.NF.A.1",
            "Develop understanding of fractions as numbers.",
            "Understand a fraction 1/b as one part when a whole is partitioned into b equal parts.",
            "Understands what fractions like 1/4 mean.",
        ),
        (
            "3.MD.C.7",
            "Geometric measurement: understand concepts of area.",
            "Relate area to the operations of multiplication and addition.",
            "Finds the area of rectangles by multiplying.",
        ),
    ],
    "04": [
        (
            "4.OA.A.3",
            "Use the four operations with whole numbers to solve problems.",
            "Solve multistep word problems with whole numbers using the four operations.",
            "Solves word problems that take several steps.",
        ),
        (
            "4.NBT.B.4",
            "Use place value understanding to perform multi-digit arithmetic.",
            "Fluently add and subtract multi-digit whole numbers using the standard algorithm.",
            "Adds and subtracts large numbers accurately.",
        ),
        (
            "4.NBT.B.5",
            "Use place value understanding to perform multi-digit arithmetic.",
            "Multiply a whole number of up to four digits by a one-digit whole number.",
            "Multiplies larger numbers by a single digit.",
        ),
        (
            "4.NF.A.1",
            "Extend understanding of fraction equivalence and ordering.",
            "Explain why two fractions are equivalent using visual fraction models.",
            "Explains why 1/2 and 2/4 are the same amount.",
        ),
        (
            "4.NF.B.3",
            "Build fractions from unit fractions.",
            "Add and subtract fractions and mixed numbers with like denominators.",
            "Adds and subtracts fractions with the same bottom number.",
        ),
    ],
    "05": [
        (
            "5.NBT.A.1",
            "Understand the place value system.",
            "Recognize that a digit in one place is 10 times what it represents in the place to "
            "its right.",
            "Understands place value, including decimals.",
        ),
        (
            "5.NBT.B.5",
            "Perform operations with multi-digit whole numbers and decimals.",
            "Fluently multiply multi-digit whole numbers using the standard algorithm.",
            "Multiplies multi-digit numbers.",
        ),
        (
            "5.NF.A.1",
            "Use equivalent fractions to add and subtract fractions.",
            "Add and subtract fractions with unlike denominators, including mixed numbers.",
            "Adds and subtracts fractions with different bottom numbers.",
        ),
        (
            "5.NF.B.4",
            "Apply understanding of multiplication to multiply fractions.",
            "Multiply a fraction or whole number by a fraction.",
            "Multiplies fractions.",
        ),
        (
            "5.MD.C.5",
            "Geometric measurement: understand concepts of volume.",
            "Relate volume to multiplication and addition and solve volume problems.",
            "Finds the volume of boxes.",
        ),
    ],
    "06": [
        (
            "6.RP.A.1",
            "Understand ratio concepts and use ratio reasoning.",
            "Understand the concept of a ratio and use ratio language to describe a relationship.",
            "Describes relationships with ratios, like 3 cats for every 2 dogs.",
        ),
        (
            "6.RP.A.3",
            "Understand ratio concepts and use ratio reasoning.",
            "Use ratio and rate reasoning to solve real-world problems, including percents.",
            "Solves problems with rates, unit prices and percents.",
        ),
        (
            "6.NS.B.2",
            "Compute fluently with multi-digit numbers.",
            "Fluently divide multi-digit numbers using the standard algorithm.",
            "Does long division accurately.",
        ),
        (
            "6.EE.A.2",
            "Apply and extend previous understandings of arithmetic to expressions.",
            "Write, read and evaluate expressions in which letters stand for numbers.",
            "Works with expressions that use variables.",
        ),
        (
            "6.EE.B.7",
            "Reason about and solve one-variable equations and inequalities.",
            "Solve real-world problems by writing and solving equations of the form x + p = q "
            "and px = q.",
            "Solves one-step equations.",
        ),
        (
            "6.SP.B.5",
            "Summarize and describe distributions.",
            "Summarize numerical data sets in relation to their context (center and variability).",
            "Describes data using averages and spread.",
        ),
    ],
    "07": [
        (
            "7.RP.A.2",
            "Analyze proportional relationships and use them to solve problems.",
            "Recognize and represent proportional relationships between quantities.",
            "Recognizes when two quantities are proportional.",
        ),
        (
            "7.NS.A.1",
            "Apply and extend previous understandings of operations with fractions.",
            "Add and subtract rational numbers, including negative numbers, on a number line.",
            "Adds and subtracts positive and negative numbers.",
        ),
        (
            "7.EE.B.4",
            "Solve real-life problems using numerical and algebraic expressions.",
            "Use variables to construct simple equations and inequalities to solve problems.",
            "Writes and solves equations for word problems.",
        ),
        (
            "7.G.B.4",
            "Solve problems involving angle measure, area, surface area and volume.",
            "Know and use the formulas for the area and circumference of a circle.",
            "Finds the area and circumference of circles.",
        ),
        (
            "7.SP.C.5",
            "Investigate chance processes and develop probability models.",
            "Understand that the probability of a chance event is a number between 0 and 1.",
            "Understands probability as a number from 0 to 1.",
        ),
    ],
    "08": [
        (
            "8.EE.A.1",
            "Work with radicals and integer exponents.",
            "Know and apply the properties of integer exponents to generate equivalent "
            "expressions.",
            "Uses exponent rules.",
        ),
        (
            "8.EE.C.7",
            "Analyze and solve linear equations and pairs of linear equations.",
            "Solve linear equations in one variable, including with rational coefficients.",
            "Solves multi-step equations.",
        ),
        (
            "8.EE.C.8",
            "Analyze and solve linear equations and pairs of linear equations.",
            "Analyze and solve pairs of simultaneous linear equations.",
            "Solves systems of two equations.",
        ),
        (
            "8.F.A.1",
            "Define, evaluate and compare functions.",
            "Understand that a function assigns to each input exactly one output.",
            "Understands what a function is.",
        ),
        (
            "8.G.B.7",
            "Understand and apply the Pythagorean Theorem.",
            "Apply the Pythagorean Theorem to find unknown side lengths in right triangles.",
            "Uses the Pythagorean Theorem to find missing sides.",
        ),
    ],
    "09": [
        (
            "HSA.SSE.A.1",
            "Interpret the structure of expressions.",
            "Interpret expressions that represent a quantity in terms of its context.",
            "Explains what the parts of an algebraic expression mean.",
        ),
        (
            "HSA.CED.A.1",
            "Create equations that describe numbers or relationships.",
            "Create equations and inequalities in one variable and use them to solve problems.",
            "Writes equations to model real situations.",
        ),
        (
            "HSA.REI.B.3",
            "Solve equations and inequalities in one variable.",
            "Solve linear equations and inequalities in one variable.",
            "Solves linear equations and inequalities.",
        ),
        (
            "HSA.REI.C.6",
            "Solve systems of equations.",
            "Solve systems of linear equations exactly and approximately.",
            "Solves systems of linear equations.",
        ),
        (
            "HSF.IF.B.4",
            "Interpret functions that arise in applications in terms of the context.",
            "Interpret key features of graphs and tables of a function in terms of the quantities.",
            "Reads and explains graphs of functions.",
        ),
    ],
    "10": [
        (
            "HSG.CO.A.1",
            "Experiment with transformations in the plane.",
            "Know precise definitions of angle, circle, perpendicular line, parallel line and "
            "segment.",
            "Uses precise geometric definitions.",
        ),
        (
            "HSG.CO.C.10",
            "Prove geometric theorems.",
            "Prove theorems about triangles.",
            "Proves facts about triangles.",
        ),
        (
            "HSG.SRT.A.2",
            "Understand similarity in terms of similarity transformations.",
            "Use similarity transformations to decide whether two figures are similar.",
            "Decides whether two shapes are similar.",
        ),
        (
            "HSG.SRT.C.8",
            "Define trigonometric ratios and solve problems involving right triangles.",
            "Use trigonometric ratios and the Pythagorean Theorem to solve right triangles.",
            "Uses sine, cosine and tangent to solve triangles.",
        ),
        (
            "HSG.GMD.A.3",
            "Explain volume formulas and use them to solve problems.",
            "Use volume formulas for cylinders, pyramids, cones and spheres to solve problems.",
            "Finds the volume of cylinders, cones and spheres.",
        ),
    ],
    "11": [
        (
            "HSA.APR.B.3",
            "Understand the relationship between zeros and factors of polynomials.",
            "Identify zeros of polynomials when suitable factorizations are available.",
            "Finds where a polynomial equals zero.",
        ),
        (
            "HSF.BF.B.4",
            "Build new functions from existing functions.",
            "Find inverse functions.",
            "Finds the inverse of a function.",
        ),
        (
            "HSF.LE.A.4",
            "Construct and compare linear, quadratic and exponential models.",
            "Express the solution to an exponential model as a logarithm.",
            "Uses logarithms to solve exponential equations.",
        ),
        (
            "HSF.TF.A.2",
            "Extend the domain of trigonometric functions using the unit circle.",
            "Explain how the unit circle extends trigonometric functions to all real numbers.",
            "Uses the unit circle for sine and cosine.",
        ),
        (
            "HSS.ID.A.4",
            "Summarize, represent and interpret data on a single measurement variable.",
            "Use the mean and standard deviation to fit a data set to a normal distribution.",
            "Works with the normal (bell) curve.",
        ),
    ],
    "12": [
        (
            "HSF.IF.C.7",
            "Analyze functions using different representations.",
            "Graph functions expressed symbolically and show key features of the graph.",
            "Graphs functions and shows their key features.",
        ),
        (
            "HSF.BF.B.3",
            "Build new functions from existing functions.",
            "Identify the effect on the graph of replacing f(x) by f(x) + k, k f(x), f(kx) and "
            "f(x + k).",
            "Explains how changing a function shifts or stretches its graph.",
        ),
        (
            "HSF.TF.B.5",
            "Model periodic phenomena with trigonometric functions.",
            "Choose trigonometric functions to model periodic phenomena.",
            "Uses sine and cosine to model repeating patterns.",
        ),
        (
            "HSN.CN.A.3",
            "Perform arithmetic operations with complex numbers.",
            "Find the conjugate of a complex number; use conjugates to find quotients.",
            "Computes with complex numbers.",
        ),
        (
            "HSN.VM.A.1",
            "Represent and model with vector quantities.",
            "Recognize vector quantities as having both magnitude and direction.",
            "Works with vectors (size and direction).",
        ),
    ],
}

ELA_DOMAINS = {
    "RL": "Reading: Literature",
    "RI": "Reading: Informational Text",
    "W": "Writing",
    "L": "Language",
}
ELA_CLUSTERS = {
    "KID": "Key Ideas and Details",
    "TTP": "Text Types and Purposes",
    "CSE": "Conventions of Standard English",
}
# (domain, number, cluster, {band: (description, for families)}); bands: K-2, 3-5, 6-8, 9-12.
ELA_STANDARDS: list[tuple[str, int, str, dict[str, tuple[str, str]]]] = [
    (
        "RL",
        1,
        "KID",
        {
            "K-2": (
                "Ask and answer questions about key details in a text.",
                "Answers who, what, where and when questions about a story.",
            ),
            "3-5": (
                "Refer to details and examples in a text when explaining what it says and when "
                "drawing inferences.",
                "Uses details from a story to explain it.",
            ),
            "6-8": (
                "Cite textual evidence to support analysis of what the text says explicitly and "
                "inferences drawn from it.",
                "Backs up ideas about a story with quotes from it.",
            ),
            "9-12": (
                "Cite strong and thorough textual evidence to support analysis of a text, "
                "including where it leaves matters uncertain.",
                "Supports an analysis of literature with strong evidence.",
            ),
        },
    ),
    (
        "RL",
        2,
        "KID",
        {
            "K-2": (
                "Retell stories, including key details, and show understanding of their lesson.",
                "Retells a story and tells its lesson.",
            ),
            "3-5": (
                "Determine a theme of a story from details in the text; summarize the text.",
                "Finds the theme of a story and summarizes it.",
            ),
            "6-8": (
                "Determine a theme or central idea of a text and analyze its development.",
                "Explains how a story's theme develops.",
            ),
            "9-12": (
                "Determine two or more themes of a text and analyze their development over the "
                "course of the text.",
                "Analyzes how themes build across a text.",
            ),
        },
    ),
    (
        "RI",
        2,
        "KID",
        {
            "K-2": (
                "Identify the main topic of a text and retell key details.",
                "Tells what a nonfiction book is mostly about.",
            ),
            "3-5": (
                "Determine the main idea of a text and explain how key details support it.",
                "Finds the main idea of an article and its supporting details.",
            ),
            "6-8": (
                "Determine a central idea of a text and how it is conveyed through particular "
                "details.",
                "Finds the central idea of an article and how it is supported.",
            ),
            "9-12": (
                "Determine central ideas of a text and analyze their development, including how "
                "they interact and build on one another.",
                "Analyzes how the central ideas of an article develop.",
            ),
        },
    ),
    (
        "W",
        1,
        "TTP",
        {
            "K-2": (
                "Write opinion pieces that introduce the topic, state an opinion and supply a "
                "reason.",
                "Writes an opinion with a reason.",
            ),
            "3-5": (
                "Write opinion pieces on topics or texts, supporting a point of view with reasons "
                "and information.",
                "Writes an opinion piece supported by reasons.",
            ),
            "6-8": (
                "Write arguments to support claims with clear reasons and relevant evidence.",
                "Writes an argument with a claim and evidence.",
            ),
            "9-12": (
                "Write arguments to support claims in an analysis of substantive topics, using "
                "valid reasoning and sufficient evidence.",
                "Writes well-reasoned arguments backed by evidence.",
            ),
        },
    ),
    (
        "W",
        2,
        "TTP",
        {
            "K-2": (
                "Write informative texts that name a topic, supply facts and provide a sense of "
                "closure.",
                "Writes to explain facts about a topic.",
            ),
            "3-5": (
                "Write informative texts to examine a topic and convey ideas and information "
                "clearly.",
                "Writes clear reports about a topic.",
            ),
            "6-8": (
                "Write informative texts to examine a topic through the selection, organization "
                "and analysis of relevant content.",
                "Writes organized informational essays.",
            ),
            "9-12": (
                "Write informative texts to convey complex ideas clearly and accurately through "
                "effective selection and analysis of content.",
                "Writes clear explanations of complex ideas.",
            ),
        },
    ),
    (
        "L",
        2,
        "CSE",
        {
            "K-2": (
                "Demonstrate command of capitalization, punctuation and spelling when writing.",
                "Uses capital letters, periods and correct spelling.",
            ),
            "3-5": (
                "Demonstrate command of the conventions of capitalization, punctuation and "
                "spelling.",
                "Uses correct capitalization, punctuation and spelling.",
            ),
            "6-8": (
                "Demonstrate command of the conventions of standard English capitalization, "
                "punctuation and spelling.",
                "Punctuates and spells correctly.",
            ),
            "9-12": (
                "Demonstrate command of the conventions of standard English, including hyphens, "
                "semicolons and colons.",
                "Uses advanced punctuation correctly.",
            ),
        },
    ),
]

# Science: NGSS performance expectations of the middle and high school bands (the demo teaches
# science from grade 6), under their disciplinary core ideas and domains.
# (code, core idea, core idea name, expectation, family-friendly wording)
NGSS_DOMAINS = {"PS": "Physical Sciences", "LS": "Life Sciences", "ESS": "Earth and Space Sciences"}
NGSS_STANDARDS: dict[str, list[tuple[str, str, str, str]]] = {
    "MS": [
        (
            "MS-PS1-1",
            "Matter and Its Interactions",
            "Develop models to describe the atomic composition of simple molecules and extended "
            "structures.",
            "Builds models of how atoms make up molecules.",
        ),
        (
            "MS-PS1-2",
            "Matter and Its Interactions",
            "Analyze and interpret data on the properties of substances before and after the "
            "substances interact to determine if a chemical reaction has occurred.",
            "Uses data to tell whether a chemical reaction happened.",
        ),
        (
            "MS-PS2-1",
            "Motion and Stability: Forces and Interactions",
            "Apply Newton's Third Law to design a solution to a problem involving the motion of "
            "two colliding objects.",
            "Uses Newton's third law to explain collisions.",
        ),
        (
            "MS-LS1-1",
            "From Molecules to Organisms: Structures and Processes",
            "Conduct an investigation to provide evidence that living things are made of cells; "
            "either one cell or many different numbers and types of cells.",
            "Shows with evidence that living things are made of cells.",
        ),
        (
            "MS-LS2-1",
            "Ecosystems: Interactions, Energy, and Dynamics",
            "Analyze and interpret data to provide evidence for the effects of resource "
            "availability on organisms and populations of organisms in an ecosystem.",
            "Explains how food and water supplies affect living things in an ecosystem.",
        ),
        (
            "MS-ESS1-1",
            "Earth's Place in the Universe",
            "Develop and use a model of the Earth-sun-moon system to describe the cyclic patterns "
            "of lunar phases, eclipses of the sun and moon, and seasons.",
            "Models the Earth, sun and moon to explain moon phases, eclipses and seasons.",
        ),
    ],
    "HS": [
        (
            "HS-PS1-1",
            "Matter and Its Interactions",
            "Use the periodic table as a model to predict the relative properties of elements "
            "based on the patterns of electrons in the outermost energy level of atoms.",
            "Uses the periodic table to predict how elements behave.",
        ),
        (
            "HS-PS2-1",
            "Motion and Stability: Forces and Interactions",
            "Analyze data to support the claim that Newton's second law of motion describes the "
            "mathematical relationship among the net force on a macroscopic object, its mass, "
            "and its acceleration.",
            "Uses data to show how force, mass and acceleration are related.",
        ),
        (
            "HS-PS3-1",
            "Energy",
            "Create a computational model to calculate the change in the energy of one component "
            "in a system when the change in energy of the other component(s) and energy flows in "
            "and out of the system are known.",
            "Calculates how energy moves between parts of a system.",
        ),
        (
            "HS-LS1-1",
            "From Molecules to Organisms: Structures and Processes",
            "Construct an explanation based on evidence for how the structure of DNA determines "
            "the structure of proteins which carry out the essential functions of life through "
            "systems of specialized cells.",
            "Explains how DNA shapes the proteins that keep living things working.",
        ),
        (
            "HS-LS3-1",
            "Heredity: Inheritance and Variation of Traits",
            "Ask questions to clarify relationships about the role of DNA and chromosomes in "
            "coding the instructions for characteristic traits passed from parents to offspring.",
            "Asks good questions about how DNA passes traits from parents to children.",
        ),
        (
            "HS-ESS2-1",
            "Earth's Systems",
            "Develop a model to illustrate how Earth's internal and surface processes operate at "
            "different spatial and temporal scales to form continental and ocean-floor features.",
            "Models how forces inside and on the Earth shape continents and ocean floors.",
        ),
    ],
}

# Social studies: the C3 Framework's Dimension 2 indicators for grades 6-8 and 9-12, under their
# disciplines. (discipline, number, indicator by band, family-friendly wording by band)
C3_DISCIPLINES = {"Civ": "Civics", "Eco": "Economics", "Geo": "Geography", "His": "History"}
# The framework's category of each indicator, the level between discipline and indicator.
C3_CATEGORIES = {
    ("Civ", 1): ("CPI", "Civic and Political Institutions"),
    ("Civ", 10): ("PDV", "Participation and Deliberation: Civic Virtues and Democratic Principles"),
    ("Eco", 1): ("EDM", "Economic Decision Making"),
    ("Geo", 2): ("GRS", "Geographic Representations: Spatial Views of the World"),
    ("His", 1): ("CCC", "Change, Continuity, and Context"),
    ("His", 16): ("CAA", "Causation and Argumentation"),
}
C3_STANDARDS: list[tuple[str, int, dict[str, tuple[str, str]]]] = [
    (
        "Civ",
        1,
        {
            "6-8": (
                "Distinguish the powers and responsibilities of citizens, political parties, "
                "interest groups, and the media in a variety of governmental and nongovernmental "
                "contexts.",
                "Explains what citizens, parties, interest groups and the media each do.",
            ),
            "9-12": (
                "Distinguish the powers and responsibilities of local, state, tribal, national, "
                "and international civic and political institutions.",
                "Explains what each level of government can and must do.",
            ),
        },
    ),
    (
        "Civ",
        10,
        {
            "6-8": (
                "Explain the relevance of personal interests and perspectives, civic virtues, and "
                "democratic principles when people address issues and problems in government and "
                "civil society.",
                "Explains how values and viewpoints shape how people solve public problems.",
            ),
            "9-12": (
                "Analyze the impact and the appropriate roles of personal interests and "
                "perspectives on the application of civic virtues, democratic principles, "
                "constitutional rights, and human rights.",
                "Weighs how personal views affect rights and democratic principles.",
            ),
        },
    ),
    (
        "Eco",
        1,
        {
            "6-8": (
                "Explain how economic decisions affect the well-being of individuals, businesses, "
                "and society.",
                "Explains how money choices affect people, businesses and communities.",
            ),
            "9-12": (
                "Analyze how incentives influence choices that may result in policies with a "
                "range of costs and benefits for different groups.",
                "Analyzes how incentives lead to choices with costs and benefits.",
            ),
        },
    ),
    (
        "Geo",
        2,
        {
            "6-8": (
                "Use maps, satellite images, photographs, and other representations to explain "
                "relationships between the locations of places and regions and their political, "
                "cultural, and economic dynamics.",
                "Uses maps and images to explain how places connect to their people and economy.",
            ),
            "9-12": (
                "Use maps, satellite images, photographs, and other representations to explain "
                "relationships between the locations of places and regions and their political, "
                "cultural, and economic dynamics.",
                "Uses maps and images to explain how places connect to their people and economy.",
            ),
        },
    ),
    (
        "His",
        1,
        {
            "6-8": (
                "Analyze connections among events and developments in broader historical contexts.",
                "Connects historical events to the bigger picture of their time.",
            ),
            "9-12": (
                "Evaluate how historical events and developments were shaped by unique "
                "circumstances of time and place as well as broader historical contexts.",
                "Judges how time and place shaped historical events.",
            ),
        },
    ),
    (
        "His",
        16,
        {
            "6-8": (
                "Organize applicable evidence into a coherent argument about the past.",
                "Builds an argument about the past from evidence.",
            ),
            "9-12": (
                "Integrate evidence from multiple relevant historical sources and interpretations "
                "into a reasoned argument about the past.",
                "Combines several sources into a reasoned argument about the past.",
            ),
        },
    ),
]

PERFORMANCE_LEVELS = [
    ("below_basic", "Below Basic", 0.0),
    ("basic", "Basic", 0.40),
    ("proficient", "Proficient", 0.60),
    ("advanced", "Advanced", 0.80),
]


def _ela_grade_code(grade: str) -> tuple[str, str]:
    """The grade part of an ELA code and the grade band of its wording."""
    if grade == "KG":
        return "K", "K-2"
    number = int(grade)
    if number >= 11:
        return "11-12", "9-12"
    if number >= 9:
        return "9-10", "9-12"
    return str(number), "K-2" if number <= 2 else "3-5" if number <= 5 else "6-8"


@dataclass
class _StandardRow:
    code: str
    kind: str
    description: str
    parent_description: str
    subject: str
    grade_levels: list[str]
    parent_code: str = ""
    framework: str = FRAMEWORK


def standards_plan() -> tuple[list[_StandardRow], dict[tuple[str, str], list[str]]]:
    """Every standard row (domains and clusters first) and, per (grade, subject), the codes of
    the standards taught, in teaching order."""
    rows: dict[str, _StandardRow] = {}
    taught: dict[tuple[str, str], list[str]] = {}

    def add(
        code: str,
        kind: str,
        text: str,
        family: str,
        subject: str,
        grade: str,
        parent: str = "",
        framework: str = FRAMEWORK,
    ) -> None:
        row = rows.get(code)
        if row is None:
            rows[code] = _StandardRow(code, kind, text, family, subject, [grade], parent, framework)
        elif grade not in row.grade_levels:
            row.grade_levels.append(grade)

    for grade, standards in MATH_STANDARDS.items():
        for tail, cluster_text, text, family in standards:
            parts = tail.split(".")
            domain = "CCSS.MATH.CONTENT." + ".".join(parts[:2])
            cluster = "CCSS.MATH.CONTENT." + ".".join(parts[:3])
            name = MATH_DOMAINS[parts[1]]
            add(domain, StandardKind.DOMAIN, name, name, MATH, grade)
            add(cluster, StandardKind.CLUSTER, cluster_text, cluster_text, MATH, grade, domain)
            add(
                f"CCSS.MATH.CONTENT.{tail}",
                StandardKind.STANDARD,
                text,
                family,
                MATH,
                grade,
                cluster,
            )
            taught.setdefault((grade, MATH), []).append(f"CCSS.MATH.CONTENT.{tail}")
    for grade in MATH_STANDARDS:
        code_grade, band = _ela_grade_code(grade)
        for strand, number, cluster_key, wording in ELA_STANDARDS:
            domain = f"CCSS.ELA-LITERACY.{strand}.{code_grade}"
            cluster = f"{domain}.{cluster_key}"
            name = ELA_DOMAINS[strand]
            add(domain, StandardKind.DOMAIN, name, name, ELA, grade)
            cluster_name = ELA_CLUSTERS[cluster_key]
            add(cluster, StandardKind.CLUSTER, cluster_name, cluster_name, ELA, grade, domain)
            text, family = wording[band]
            code = f"{domain}.{number}"
            add(code, StandardKind.STANDARD, text, family, ELA, grade, cluster)
            taught.setdefault((grade, ELA), []).append(code)
    for grade in ("06", "07", "08", "09", "10", "11", "12"):
        band = "MS" if grade <= "08" else "HS"
        for code, idea_name, text, family in NGSS_STANDARDS[band]:
            discipline = code.split("-")[1].rstrip("0123456789")
            domain = f"{band}-{discipline}"
            idea = code.rsplit("-", 1)[0]
            name = NGSS_DOMAINS[discipline]
            add(domain, StandardKind.DOMAIN, name, name, SCIENCE, grade, "", "NGSS")
            add(idea, StandardKind.CLUSTER, idea_name, idea_name, SCIENCE, grade, domain, "NGSS")
            add(code, StandardKind.STANDARD, text, family, SCIENCE, grade, idea, "NGSS")
            taught.setdefault((grade, SCIENCE), []).append(code)
        c3_band = "6-8" if grade <= "08" else "9-12"
        for discipline, number, wording in C3_STANDARDS:
            domain = f"D2.{discipline}"
            name = C3_DISCIPLINES[discipline]
            add(domain, StandardKind.DOMAIN, name, name, SOCIAL_STUDIES, grade, "", "C3")
            key, category_name = C3_CATEGORIES[(discipline, number)]
            category = f"{domain}.{key}"
            add(
                category,
                StandardKind.CLUSTER,
                category_name,
                category_name,
                SOCIAL_STUDIES,
                grade,
                domain,
                "C3",
            )
            text, family = wording[c3_band]
            code = f"D2.{discipline}.{number}.{c3_band}"
            add(code, StandardKind.STANDARD, text, family, SOCIAL_STUDIES, grade, category, "C3")
            taught.setdefault((grade, SOCIAL_STUDIES), []).append(code)
    order: dict[str, int] = {
        StandardKind.DOMAIN: 0,
        StandardKind.CLUSTER: 1,
        StandardKind.STANDARD: 2,
    }
    ordered = sorted(rows.values(), key=lambda r: (order[r.kind], r.code))
    return ordered, taught


def _standards_create(
    build: "DemoBuild",
) -> tuple[dict[str, int], dict[tuple[str, str], list[str]]]:
    rows, taught = standards_plan()
    ids: dict[str, int] = {}
    for kind in (StandardKind.DOMAIN, StandardKind.CLUSTER, StandardKind.STANDARD):
        batch = [
            Standard(
                code=row.code,
                kind=row.kind,
                description=row.description,
                parent_description=row.parent_description,
                parent_description_es=SPANISH.get(row.parent_description, ""),
                subject=row.subject,
                grade_levels=sorted(row.grade_levels),
                parent_id=ids[row.parent_code] if row.parent_code else None,
                framework=row.framework,
                **build.sourced("std", build.next_id("standard")),
            )
            for row in rows
            if row.kind == kind
        ]
        for standard in Standard.objects.bulk_create(batch, batch_size=2000):
            ids[standard.code] = standard.pk
    return ids, taught


def _school_weeks(build: "DemoBuild") -> tuple[list[date], int]:
    """The Mondays of the school year up to today, and the number of weeks of the whole year."""
    assert build.first_day is not None  # noqa: S101 - the district step runs first
    assert build.school_year_end is not None  # noqa: S101
    first = build.first_day - timedelta(days=build.first_day.weekday())
    last_day = date(build.school_year_end.year, 5, 29)
    end = min(build.today, last_day)
    weeks = []
    monday = first
    while monday <= end:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks, max(1, (last_day - first).days // 7 + 1)


@dataclass
class _Planned:
    assessment: Assessment
    standard_codes: list[str]


def _section_plan(
    build: "DemoBuild",
    rng: random.Random,
    section: Mapping[str, Any],
    codes: list[str],
    weeks: list[date],
    year_weeks: int,
) -> list[_Planned]:
    """Quizzes and tasks every week or two; standard i is taught in unit i of the year, revisited
    afterwards; each unit ends with a summative test."""
    assert build.first_day is not None  # noqa: S101 - the district step runs first
    planned: list[_Planned] = []
    units = len(codes)
    cadence = rng.choice([1, 2, 2])
    unit_of = [min(units - 1, index * units // year_weeks) for index in range(len(weeks))]
    quiz_number = 0
    for index, monday in enumerate(weeks):
        unit = unit_of[index]
        unit_ends = index + 1 < len(weeks) and unit_of[index + 1] != unit
        if index % cadence and not unit_ends:
            continue
        day = monday + timedelta(days=rng.randrange(5) if not unit_ends else 4)
        day = max(day, build.first_day)  # the first week starts mid-week
        if day > build.today:
            continue
        current = codes[unit]
        if unit_ends:
            aligned = [current] + ([codes[unit - 1]] if unit and rng.random() < 0.5 else [])
            title = f"Unit {unit + 1} Test"
            kind, purpose, points = AssessmentKind.TEST, AssessmentPurpose.SUMMATIVE, 20
        else:
            quiz_number += 1
            aligned = [current]
            if unit and rng.random() < 0.45:
                aligned.append(codes[rng.randrange(unit)])
            if rng.random() < 0.15 and unit + 1 < units:
                aligned.append(codes[unit + 1])
            is_task = rng.random() < 0.2
            kind = AssessmentKind.TASK if is_task else AssessmentKind.QUIZ
            title = f"{'Performance Task' if is_task else 'Quiz'} {quiz_number}"
            purpose = AssessmentPurpose.FORMATIVE
            points = rng.choice([4, 5, 8, 10, 10]) if not is_task else 4
        short = current.removeprefix("CCSS.MATH.CONTENT.").removeprefix("CCSS.ELA-LITERACY.")
        planned.append(
            _Planned(
                Assessment(
                    section_id=section["pk"],
                    title=f"{title}: {short}",
                    kind=kind,
                    purpose=purpose,
                    category="Unit test" if unit_ends else "Classwork",
                    subject=section["subject"],
                    assigned_on=day - timedelta(days=rng.randrange(0, 3)),
                    due_on=day,
                    max_points=Decimal(points),
                    **build.sourced("asm", build.next_id("assessment")),
                ),
                aligned,
            )
        )
    return planned


class _Learners:
    """Each student's ability and per-standard learning rate, drawn from a stream of their own."""

    RATES = [(0.9, 0.2), (0.5, 0.62), (0.08, 0.18)]

    def __init__(self, build: "DemoBuild") -> None:
        self.seed = build.seed
        self.ability: dict[int, float] = {}
        self.rate: dict[tuple[int, str], float] = {}
        self.practice: dict[tuple[int, str], int] = defaultdict(int)
        # Streams are keyed by the student's slot, not their database id, so a rebuild matches.
        self.slot_of = {pk: slot for slot, pk in enumerate(build.student_ids)}

    def _stream(self, student: int, key: str) -> random.Random:
        slot = self.slot_of[student]
        return random.Random(f"trellis-demo:{self.seed}:learner:{slot}:{key}")  # noqa: S311

    def chance(self, student: int, code: str, difficulty: float) -> float:
        ability = self.ability.get(student)
        if ability is None:
            ability = self.ability[student] = self._stream(student, "").gauss(0.3, 1.0)
        rate = self.rate.get((student, code))
        if rate is None:
            rng = self._stream(student, code)
            values, weights = zip(*self.RATES, strict=True)
            rate = rng.choices(values, weights=weights)[0] * rng.uniform(0.7, 1.3)
            self.rate[(student, code)] = rate
        practice = self.practice[(student, code)]
        logit = ability - difficulty - 0.9 + rate * min(practice, 6)
        return 1 / (1 + math.exp(-logit))


def _score(rng: random.Random, chance: float, points: int) -> tuple[str, Decimal | None]:
    draw = rng.random()
    if draw < MISSING_RATE:
        return ScoreStatus.MISSING, None
    if draw < MISSING_RATE + EXEMPT_RATE:
        return ScoreStatus.EXEMPT, None
    value = chance + rng.gauss(0, 0.1)
    return ScoreStatus.SCORED, Decimal(max(0, min(points, round(value * points))))


def seed_assessments(build: "DemoBuild") -> None:
    """The seed step: standards, assessments, scores and mastery estimates of the demo district."""
    assert build.district is not None  # noqa: S101 - the district step runs first
    rng = build.rng("assessments")
    standard_ids, taught = _standards_create(build)
    weeks, year_weeks = _school_weeks(build)
    difficulty = {code: rng.uniform(-0.4, 0.6) for code in sorted(standard_ids)}

    sections = list(
        Section.objects.filter(
            district=build.district, subject__in=[MATH, ELA, SCIENCE, SOCIAL_STUDIES]
        )
        .order_by("pk")
        .values("pk", "subject", "grade_levels", "school_id")
    )
    subject_index = {MATH: 0, ELA: 1, SCIENCE: 2, SOCIAL_STUDIES: 3}
    roster: dict[int, list[int]] = defaultdict(list)
    for index in subject_index.values():
        for slot, section_pk in enumerate(build.slot_sections[index]):
            if section_pk:
                roster[section_pk].append(build.student_ids[slot])

    plans: dict[int, list[_Planned]] = {}
    for section in sections:
        codes = taught.get((section["grade_levels"][0], section["subject"]), [])
        if codes:
            plans[section["pk"]] = _section_plan(build, rng, section, codes, weeks, year_weeks)
    # One district-wide interim per grade and subject, twelve weeks in (or at today).
    interims: dict[tuple[str, str], _Planned] = {}
    if len(weeks) >= 3:
        day = min(weeks[min(len(weeks) - 1, 12)] + timedelta(days=2), build.today)
        for (grade, subject), codes in sorted(taught.items()):
            if subject not in (MATH, ELA):  # the district's interims test reading and math
                continue
            covered = codes[: max(2, min(len(codes), 1 + 12 * len(codes) // year_weeks))]
            interims[(grade, subject)] = _Planned(
                Assessment(
                    section=None,
                    title=f"Fall Interim: {subject}, grade {grade}",
                    kind=AssessmentKind.TEST,
                    purpose=AssessmentPurpose.INTERIM,
                    family="District interim",
                    category="Interim",
                    subject=subject,
                    assigned_on=day,
                    due_on=day,
                    max_points=Decimal(40),
                    **build.sourced("asm", build.next_id("assessment")),
                ),
                covered,
            )
    every = [p for plan in plans.values() for p in plan] + list(interims.values())
    for planned in every:
        planned.assessment.district = build.district
    Assessment.objects.bulk_create([p.assessment for p in every], batch_size=2000)
    through = Assessment.standards.through
    through.objects.bulk_create(
        [
            through(assessment_id=p.assessment.pk, standard_id=standard_ids[code])
            for p in every
            for code in p.standard_codes
        ],
        batch_size=5000,
    )
    levels = []
    for planned in interims.values():
        top = planned.assessment.max_points
        assert top is not None  # noqa: S101 - every planned assessment has its max points
        bounds = [Decimal(round(float(top) * low)) for _, _, low in PERFORMANCE_LEVELS]
        for rank, (code, name, _) in enumerate(PERFORMANCE_LEVELS):
            upper = bounds[rank + 1] - Decimal("0.001") if rank + 1 < len(bounds) else top
            levels.append(
                PerformanceLevel(
                    assessment=planned.assessment,
                    code=code,
                    name=name,
                    min_score=bounds[rank],
                    max_score=upper,
                    rank=rank + 1,
                )
            )
    PerformanceLevel.objects.bulk_create(levels)

    build.progress(f"{len(standard_ids)} standards, {len(every)} assessments")
    scored = _scored_assessments(build, sections, plans, roster, interims)
    _replay(build, scored, roster, difficulty)
    _performance_levels_set(list(interims.values()))


def _priority_sections(build: "DemoBuild", sections: Sequence[Mapping[str, Any]]) -> list[int]:
    """The demo logins' sections, in order: the demo teacher's, the demo parent's children's,
    then every section of the principal's school."""
    from students.models import SectionAssignment

    ordered: list[int] = list(
        SectionAssignment.objects.filter(staff_id=build.demo_teacher_staff_id)
        .order_by("section_id")
        .values_list("section_id", flat=True)
    )
    for slot in build.demo_parent_slots:
        ordered.extend(pk for pk in (column[slot] for column in build.slot_sections) if pk)
    school_pk = build.schools[build.demo_school].pk
    ordered.extend(s["pk"] for s in sections if s["school_id"] == school_pk)
    return list(dict.fromkeys(ordered))


def _spread(ordered: list[_Planned], keep: int, pk: int) -> list[_Planned]:
    """`keep` of a section's assessments, evenly spaced over the year, each section from its
    own starting point, so that the district's scores (and the replay's work) spread over the
    fortnights too."""
    if keep >= len(ordered):
        return ordered
    stride = len(ordered) / keep
    start = (pk * 2654435761 % 2**32) / 2**32 * stride
    picks = {min(len(ordered) - 1, int(start + i * stride)) for i in range(keep)}
    return [ordered[i] for i in sorted(picks)]


def _scored_assessments(
    build: "DemoBuild",
    sections: Sequence[Mapping[str, Any]],
    plans: dict[int, list[_Planned]],
    roster: dict[int, list[int]],
    interims: dict[tuple[str, str], _Planned],
) -> dict[int, list[_Planned]]:
    """Per section, the assessments that get scores, in date order, within about
    SCORE_ROWS_CAP scores.

    When the whole district fits (the default demo), every assessment is scored. Otherwise:
    the demo logins' sections get all of theirs; the large high school's sections (the rollup
    benchmark's) ROLLUP_SCHOOL_ASSESSMENTS each, spread over the year, so that its growth has a
    start and an end; then the other sections the same number each, spread over the year, or,
    when the budget is short of one assessment per section, one each, taken school by school in
    turn, so that every school has scored sections, until the budget is spent."""
    events: dict[int, list[_Planned]] = {}
    school_of: dict[int, int] = {}
    for section in sections:
        plan = plans.get(section["pk"])
        if not plan or not roster.get(section["pk"]):
            continue
        ordered = sorted(plan, key=lambda p: (p.assessment.due_on, p.assessment.pk))
        interim = interims.get((section["grade_levels"][0], section["subject"]))
        if interim is not None:
            ordered.append(interim)
            ordered.sort(key=lambda p: (p.assessment.due_on, p.assessment.section_id is None))
        events[section["pk"]] = ordered
        school_of[section["pk"]] = section["school_id"]

    def need(pk: int) -> int:
        return len(events[pk]) * len(roster[pk])

    if sum(need(pk) for pk in events) <= SCORE_ROWS_CAP:
        return events
    budget = SCORE_ROWS_CAP
    chosen: dict[int, list[_Planned]] = {}
    for pk in _priority_sections(build, sections):
        if pk in events and need(pk) <= budget * 0.5:
            chosen[pk] = events[pk]
            budget -= need(pk)
    if build.rollup_school is not None:
        rollup_pk = build.schools[build.rollup_school].pk
        for pk in events:
            if school_of[pk] == rollup_pk and pk not in chosen:
                chosen[pk] = _spread(events[pk], ROLLUP_SCHOOL_ASSESSMENTS, pk)
                budget -= len(chosen[pk]) * len(roster[pk])
    rest = [pk for pk in events if pk not in chosen]
    seats = sum(len(roster[pk]) for pk in rest)
    per_section = max(0, budget) // max(1, seats)
    if per_section >= 1:
        chosen.update((pk, _spread(events[pk], per_section, pk)) for pk in rest)
        return chosen
    # One assessment per section, a section of each school in turn, while the budget lasts.
    by_school: dict[int, list[int]] = defaultdict(list)
    for pk in rest:
        by_school[school_of[pk]].append(pk)
    queues = [by_school[school] for school in sorted(by_school)]
    turn = 0
    while budget > 0 and any(queues):
        queue = queues[turn % len(queues)]
        turn += 1
        if queue:
            pk = queue.pop(0)
            chosen[pk] = _spread(events[pk], 1, pk)
            budget -= len(roster[pk])
    return chosen


def _replay(
    build: "DemoBuild",
    scored: dict[int, list[_Planned]],
    roster: dict[int, list[int]],
    difficulty: dict[str, float],
) -> None:
    """Live the year a fortnight at a time, in date order, through the production path: each
    fortnight's scores are recorded with scores_record and the estimates they touch recomputed
    (what the mastery task does after commit), so every estimate's history has a point for each
    fortnight it moved in, dated by its newest score. (Week by week doubles the demo's seeding
    time for history points a few days apart.)
    Until a month of evidence exists, estimates use the fallback method (as in a new district);
    the learned model is fitted then, refitted at the start of every later month and once more
    at the end (last night's), each fit followed by a rebuild of every estimate under its
    parameters, as the fit's recompute does.
    (Production refits nightly. One fit on September's evidence alone extrapolated its count
    weights to December's longer histories: 73% of estimates read Exceeds Mastery, some for
    students whose last five scores were all below 40%.)"""
    assert build.district is not None  # noqa: S101 - the district step runs first
    score_rng = build.rng("scores")
    learners = _Learners(build)
    entry_of = {pk: build.entry_day(slot) for slot, pk in enumerate(build.student_ids)}
    assert build.first_day is not None  # noqa: S101
    first_monday = build.first_day - timedelta(days=build.first_day.weekday())
    by_period: dict[date, list[tuple[int, _Planned]]] = defaultdict(list)
    for section_pk, events in scored.items():
        for planned in events:
            due = planned.assessment.due_on
            assert due is not None  # noqa: S101 - every planned assessment has its due date
            weeks = (due - first_monday).days // 7
            period = first_monday + timedelta(weeks=weeks - weeks % REPLAY_WEEKS)
            by_period[period].append((section_pk, planned))
    written = recomputed = fits = analysed_at = 0
    months_seen: set[tuple[int, int]] = set()
    for monday in sorted(by_period):
        month = (monday.year, monday.month)
        if months_seen and month not in months_seen and _refit(build):
            fits += 1
            recomputed += _recompute_all(build.district.pk)
        months_seen.add(month)  # entering each month after the first refits
        entered: list[ScoreInput] = []
        imported: list[ScoreInput] = []
        batch = sorted(
            by_period[monday],
            key=lambda e: (e[1].assessment.due_on, e[1].assessment.section_id is None, e[0]),
        )
        for section_pk, planned in batch:
            assessment = planned.assessment
            assert assessment.max_points is not None  # noqa: S101
            assert assessment.due_on is not None  # noqa: S101
            points = int(assessment.max_points)
            for student in roster[section_pk]:
                if entry_of[student] > assessment.due_on:
                    continue  # not enrolled yet
                chance = sum(
                    learners.chance(student, code, difficulty[code])
                    for code in planned.standard_codes
                ) / len(planned.standard_codes)
                status, earned = _score(score_rng, chance, points)
                entry = ScoreInput(
                    student_id=student,
                    assessment_id=assessment.pk,
                    scored_on=assessment.due_on,
                    points=earned,
                    status=status,
                )
                (imported if assessment.section_id is None else entered).append(entry)
                for code in planned.standard_codes:
                    learners.practice[(student, code)] += 1
        touched: set[int] = set()
        for inputs, source in ((entered, ScoreSource.ENTERED), (imported, ScoreSource.IMPORTED)):
            if inputs:
                touched.update(
                    scores_record(scores=inputs, source=source, enqueue=False).estimate_ids
                )
        written += len(entered) + len(imported)
        analysed_at = _statistics_refresh(written, analysed_at)
        recomputed += _recompute(sorted(touched))
        reset_queries()
        build.progress(f"from {monday}: {written} scores, {recomputed} estimate updates")
    # Last night's refit: today's estimates read under a fit that has seen the whole year.
    if months_seen and _refit(build):
        fits += 1
        recomputed += _recompute_all(build.district.pk)
    history = MasteryEstimateHistory.objects.filter(standard__district=build.district).count()
    build.progress(
        f"replayed {len(by_period)} fortnights: {written} scores, {fits} model fits, "
        f"{recomputed} estimate updates, {history} history points"
    )


# The tables the replay grows, whose statistics the planner needs while the seed's transaction
# is still open (autovacuum cannot see uncommitted rows, and believes them empty).
REPLAY_TABLES = (
    Score,
    StudentAssessment,
    MasteryEvidence,
    MasteryEstimate,
    MasteryEstimateHistory,
    LearnerState,
)


def _statistics_refresh(written: int, analysed_at: int) -> int:
    """ANALYZE the replay's tables each time they have doubled since (returns the count they
    were analysed at): without it, PostgreSQL plans the recompute's reads of a million
    evidence rows as if the tables were empty."""
    from demo.district import tables_analyze

    if written < 2 * max(analysed_at, 5000):
        return analysed_at
    tables_analyze(REPLAY_TABLES)
    return written


def _refit(build: "DemoBuild") -> bool:
    assert build.district is not None  # noqa: S101
    fit = mastery_model_fit(district_id=build.district.pk, enqueue=False)
    if fit.fit_id is None:
        return False
    build.progress(
        f"fitted the learned model on {fit.responses} scores of {fit.students} students"
        + (f" (held-out AUC {fit.holdout_auc:.3f})" if fit.holdout_auc is not None else "")
    )
    return True


def _recompute(estimate_ids: list[int]) -> int:
    """What the mastery task does with each batch it receives."""
    changed = 0
    for start in range(0, len(estimate_ids), RECOMPUTE_BATCH):
        changed += estimates_recompute(estimate_ids[start : start + RECOMPUTE_BATCH])
    return changed


def _recompute_all(district_id: int) -> int:
    return _recompute(
        list(
            MasteryEstimate.objects.filter(standard__district_id=district_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    )


def _performance_levels_set(interims: list[_Planned]) -> None:
    """Each interim result's performance level, from its whole-assessment score."""
    for planned in interims:
        for level in planned.assessment.performance_levels.all():
            StudentAssessment.objects.filter(
                assessment=planned.assessment,
                scores__item__isnull=True,
                scores__points__gte=level.min_score,
                scores__points__lte=level.max_score,
            ).update(performance_level=level)
