"""The demo standards' words for families in Spanish (Standard.parent_description_es), keyed by
their English words (demo.mastery's "for families" column, and the domain and cluster names).
Plain words, as a family reads them: a standard says what the child does ("Cuenta hasta 100"), a
cluster what the class works on ("Comprender el valor posicional"), a domain names its area.
The portal's terms in Spanish: standard → estándar, level → nivel, mastery → dominio."""

SPANISH: dict[str, str] = {
    # Domains: English language arts, mathematics, social studies, science.
    "Language": "Lenguaje",
    "Reading: Informational Text": "Lectura: textos informativos",
    "Reading: Literature": "Lectura: literatura",
    "Writing": "Escritura",
    "Measurement and Data": "Medición y datos",
    "Number and Operations in Base Ten": "Números y operaciones en base diez",
    "Operations and Algebraic Thinking": "Operaciones y pensamiento algebraico",
    "Number and Operations—Fractions": "Números y operaciones: fracciones",
    "Expressions and Equations": "Expresiones y ecuaciones",
    "The Number System": "El sistema numérico",
    "Ratios and Proportional Relationships": "Razones y relaciones proporcionales",
    "Statistics and Probability": "Estadística y probabilidad",
    "Geometry": "Geometría",
    "Functions": "Funciones",
    "Arithmetic with Polynomials and Rational Expressions": (
        "Aritmética con polinomios y expresiones racionales"
    ),
    "Creating Equations": "Plantear ecuaciones",
    "Reasoning with Equations and Inequalities": "Razonar con ecuaciones y desigualdades",
    "Seeing Structure in Expressions": "Ver la estructura de las expresiones",
    "Building Functions": "Construir funciones",
    "Interpreting Functions": "Interpretar funciones",
    "Linear, Quadratic, and Exponential Models": "Modelos lineales, cuadráticos y exponenciales",
    "Trigonometric Functions": "Funciones trigonométricas",
    "Congruence": "Congruencia",
    "Geometric Measurement and Dimension": "Medición geométrica y dimensión",
    "Similarity, Right Triangles, and Trigonometry": (
        "Semejanza, triángulos rectángulos y trigonometría"
    ),
    "The Complex Number System": "El sistema de los números complejos",
    "Vector and Matrix Quantities": "Vectores y matrices",
    "Interpreting Categorical and Quantitative Data": (
        "Interpretar datos por categorías y datos numéricos"
    ),
    "Counting and Cardinality": "Contar y saber cuántos hay",
    "Civics": "Educación cívica",
    "Economics": "Economía",
    "Geography": "Geografía",
    "History": "Historia",
    "Earth and Space Sciences": "Ciencias de la Tierra y del espacio",
    "Life Sciences": "Ciencias de la vida",
    "Physical Sciences": "Ciencias físicas",
    # Clusters: what the class works on.
    "Conventions of Standard English": "Reglas del inglés escrito",
    "Key Ideas and Details": "Ideas clave y detalles",
    "Text Types and Purposes": "Tipos de texto y para qué sirven",
    "Measure lengths indirectly and by iterating length units.": (
        "Medir longitudes comparando objetos y repitiendo una unidad de medida."
    ),
    "Understand place value.": "Comprender el valor posicional.",
    "Use place value understanding to add and subtract.": (
        "Usar el valor posicional para sumar y restar."
    ),
    "Represent and solve problems involving addition and subtraction.": (
        "Representar y resolver problemas de suma y resta."
    ),
    "Add and subtract within 20.": "Sumar y restar hasta 20.",
    "Work with time and money.": "Trabajar con la hora y el dinero.",
    "Geometric measurement: understand concepts of area.": (
        "Medición geométrica: comprender qué es el área."
    ),
    "Use place value understanding to perform multi-digit arithmetic.": (
        "Usar el valor posicional para hacer cuentas con números de varias cifras."
    ),
    "Develop understanding of fractions as numbers.": (
        "Comprender que las fracciones son números."
    ),
    "Represent and solve problems involving multiplication and division.": (
        "Representar y resolver problemas de multiplicación y división."
    ),
    "Multiply and divide within 100.": "Multiplicar y dividir hasta 100.",
    "Extend understanding of fraction equivalence and ordering.": (
        "Profundizar en las fracciones equivalentes y en cómo ordenarlas."
    ),
    "Build fractions from unit fractions.": (
        "Formar fracciones a partir de fracciones unitarias, como 1/4."
    ),
    "Use the four operations with whole numbers to solve problems.": (
        "Usar las cuatro operaciones con números enteros para resolver problemas."
    ),
    "Geometric measurement: understand concepts of volume.": (
        "Medición geométrica: comprender qué es el volumen."
    ),
    "Understand the place value system.": "Comprender el sistema de valor posicional.",
    "Perform operations with multi-digit whole numbers and decimals.": (
        "Hacer operaciones con números enteros de varias cifras y con decimales."
    ),
    "Use equivalent fractions to add and subtract fractions.": (
        "Usar fracciones equivalentes para sumar y restar fracciones."
    ),
    "Apply understanding of multiplication to multiply fractions.": (
        "Aplicar lo que se sabe de la multiplicación para multiplicar fracciones."
    ),
    "Apply and extend previous understandings of arithmetic to expressions.": (
        "Llevar lo aprendido de aritmética a las expresiones con letras."
    ),
    "Reason about and solve one-variable equations and inequalities.": (
        "Razonar y resolver ecuaciones y desigualdades con una incógnita."
    ),
    "Compute fluently with multi-digit numbers.": (
        "Calcular con soltura con números de varias cifras."
    ),
    "Understand ratio concepts and use ratio reasoning.": (
        "Comprender qué es una razón y razonar con razones."
    ),
    "Summarize and describe distributions.": "Resumir y describir conjuntos de datos.",
    "Solve real-life problems using numerical and algebraic expressions.": (
        "Resolver problemas de la vida diaria con expresiones numéricas y algebraicas."
    ),
    "Solve problems involving angle measure, area, surface area and volume.": (
        "Resolver problemas de ángulos, área, área de superficie y volumen."
    ),
    "Apply and extend previous understandings of operations with fractions.": (
        "Aplicar y ampliar lo aprendido sobre operaciones con fracciones."
    ),
    "Analyze proportional relationships and use them to solve problems.": (
        "Analizar relaciones proporcionales y usarlas para resolver problemas."
    ),
    "Investigate chance processes and develop probability models.": (
        "Explorar situaciones de azar y crear modelos de probabilidad."
    ),
    "Work with radicals and integer exponents.": "Trabajar con raíces y exponentes enteros.",
    "Analyze and solve linear equations and pairs of linear equations.": (
        "Analizar y resolver ecuaciones lineales y pares de ecuaciones lineales."
    ),
    "Define, evaluate and compare functions.": "Definir, evaluar y comparar funciones.",
    "Understand and apply the Pythagorean Theorem.": (
        "Comprender y aplicar el teorema de Pitágoras."
    ),
    "Understand the relationship between zeros and factors of polynomials.": (
        "Comprender la relación entre los ceros y los factores de un polinomio."
    ),
    "Create equations that describe numbers or relationships.": (
        "Plantear ecuaciones que describan números o relaciones."
    ),
    "Solve equations and inequalities in one variable.": (
        "Resolver ecuaciones y desigualdades con una incógnita."
    ),
    "Solve systems of equations.": "Resolver sistemas de ecuaciones.",
    "Interpret the structure of expressions.": "Interpretar la estructura de las expresiones.",
    "Build new functions from existing functions.": (
        "Construir funciones nuevas a partir de otras ya conocidas."
    ),
    "Interpret functions that arise in applications in terms of the context.": (
        "Interpretar funciones que surgen en situaciones reales según su contexto."
    ),
    "Analyze functions using different representations.": (
        "Analizar funciones con distintas representaciones."
    ),
    "Construct and compare linear, quadratic and exponential models.": (
        "Construir y comparar modelos lineales, cuadráticos y exponenciales."
    ),
    "Extend the domain of trigonometric functions using the unit circle.": (
        "Ampliar las funciones trigonométricas con el círculo unitario."
    ),
    "Model periodic phenomena with trigonometric functions.": (
        "Representar fenómenos que se repiten con funciones trigonométricas."
    ),
    "Experiment with transformations in the plane.": (
        "Experimentar con movimientos de figuras en el plano."
    ),
    "Prove geometric theorems.": "Demostrar teoremas de geometría.",
    "Explain volume formulas and use them to solve problems.": (
        "Explicar las fórmulas de volumen y usarlas para resolver problemas."
    ),
    "Understand similarity in terms of similarity transformations.": (
        "Comprender la semejanza por medio de transformaciones."
    ),
    "Define trigonometric ratios and solve problems involving right triangles.": (
        "Definir las razones trigonométricas y resolver problemas con triángulos rectángulos."
    ),
    "Perform arithmetic operations with complex numbers.": (
        "Hacer operaciones aritméticas con números complejos."
    ),
    "Represent and model with vector quantities.": ("Representar situaciones con vectores."),
    "Summarize, represent and interpret data on a single measurement variable.": (
        "Resumir, representar e interpretar datos de una sola medida."
    ),
    "Know number names and the count sequence.": (
        "Conocer los nombres de los números y el orden al contar."
    ),
    "Count to tell the number of objects.": "Contar para saber cuántos objetos hay.",
    "Identify and describe shapes.": "Reconocer y describir figuras.",
    "Understand addition as putting together and subtraction as taking apart.": (
        "Comprender que sumar es juntar y restar es quitar."
    ),
    "Civic and Political Institutions": "Instituciones cívicas y políticas",
    "Participation and Deliberation: Civic Virtues and Democratic Principles": (
        "Participación y diálogo: virtudes cívicas y principios democráticos"
    ),
    "Economic Decision Making": "Tomar decisiones económicas",
    "Geographic Representations: Spatial Views of the World": (
        "Representaciones geográficas: el mundo visto en mapas"
    ),
    "Causation and Argumentation": "Causas y argumentación",
    "Change, Continuity, and Context": "Cambio, continuidad y contexto",
    "Earth's Systems": "Los sistemas de la Tierra",
    "From Molecules to Organisms: Structures and Processes": (
        "De las moléculas a los organismos: estructuras y procesos"
    ),
    "Heredity: Inheritance and Variation of Traits": (
        "Herencia: cómo se heredan y varían los rasgos"
    ),
    "Matter and Its Interactions": "La materia y sus interacciones",
    "Motion and Stability: Forces and Interactions": (
        "Movimiento y estabilidad: fuerzas e interacciones"
    ),
    "Energy": "Energía",
    "Earth's Place in the Universe": "El lugar de la Tierra en el universo",
    "Ecosystems: Interactions, Energy, and Dynamics": (
        "Ecosistemas: interacciones, energía y cambios"
    ),
    # Standards: what the child does.
    "Uses capital letters, periods and correct spelling.": (
        "Usa mayúsculas, puntos y escribe las palabras correctamente."
    ),
    "Uses advanced punctuation correctly.": "Usa bien signos de puntuación avanzados.",
    "Uses correct capitalization, punctuation and spelling.": (
        "Usa bien las mayúsculas, la puntuación y la ortografía."
    ),
    "Punctuates and spells correctly.": "Puntúa y escribe con buena ortografía.",
    "Tells what a nonfiction book is mostly about.": (
        "Dice de qué trata principalmente un libro informativo."
    ),
    "Analyzes how the central ideas of an article develop.": (
        "Analiza cómo se desarrollan las ideas centrales de un artículo."
    ),
    "Finds the main idea of an article and its supporting details.": (
        "Encuentra la idea principal de un artículo y los detalles que la apoyan."
    ),
    "Finds the central idea of an article and how it is supported.": (
        "Encuentra la idea central de un artículo y cómo se apoya."
    ),
    "Answers who, what, where and when questions about a story.": (
        "Responde preguntas de quién, qué, dónde y cuándo sobre un cuento."
    ),
    "Retells a story and tells its lesson.": "Vuelve a contar un cuento y dice su enseñanza.",
    "Supports an analysis of literature with strong evidence.": (
        "Apoya su análisis de una obra literaria con pruebas sólidas del texto."
    ),
    "Analyzes how themes build across a text.": (
        "Analiza cómo se desarrollan los temas a lo largo de un texto."
    ),
    "Uses details from a story to explain it.": "Usa detalles de un cuento para explicarlo.",
    "Finds the theme of a story and summarizes it.": (
        "Encuentra el tema de un cuento y lo resume."
    ),
    "Backs up ideas about a story with quotes from it.": (
        "Apoya sus ideas sobre un cuento con citas del texto."
    ),
    "Explains how a story's theme develops.": "Explica cómo se desarrolla el tema de un cuento.",
    "Writes an opinion with a reason.": "Escribe una opinión y da una razón.",
    "Writes to explain facts about a topic.": "Escribe para explicar datos sobre un tema.",
    "Writes well-reasoned arguments backed by evidence.": (
        "Escribe argumentos bien razonados y apoyados en pruebas."
    ),
    "Writes clear explanations of complex ideas.": (
        "Escribe explicaciones claras de ideas complejas."
    ),
    "Writes an opinion piece supported by reasons.": (
        "Escribe un texto de opinión apoyado en razones."
    ),
    "Writes clear reports about a topic.": "Escribe informes claros sobre un tema.",
    "Writes an argument with a claim and evidence.": (
        "Escribe un argumento con una afirmación y pruebas."
    ),
    "Writes organized informational essays.": "Escribe ensayos informativos bien organizados.",
    "Puts objects in order from shortest to longest.": (
        "Ordena objetos del más corto al más largo."
    ),
    "Knows that 34 means 3 tens and 4 ones.": "Sabe que 34 son 3 decenas y 4 unidades.",
    "Adds numbers up to 100 using tens and ones.": (
        "Suma números hasta 100 usando decenas y unidades."
    ),
    "Solves adding and subtracting stories up to 20.": (
        "Resuelve problemas de sumar y restar hasta 20."
    ),
    "Adds and subtracts quickly within 10.": "Suma y resta rápido hasta 10.",
    "Counts money and solves money problems.": ("Cuenta dinero y resuelve problemas con dinero."),
    "Knows what each digit in a number like 572 means.": (
        "Sabe qué vale cada cifra de un número como 572."
    ),
    "Adds and subtracts two-digit numbers.": "Suma y resta números de dos cifras.",
    "Solves one- and two-step word problems up to 100.": (
        "Resuelve problemas de uno o dos pasos con números hasta 100."
    ),
    "Knows addition and subtraction facts to 20.": (
        "Se sabe de memoria las sumas y restas hasta 20."
    ),
    "Finds the area of rectangles by multiplying.": (
        "Calcula el área de un rectángulo multiplicando."
    ),
    "Adds and subtracts numbers up to 1000.": "Suma y resta números hasta 1000.",
    "Understands what fractions like 1/4 mean.": ("Entiende qué significan fracciones como 1/4."),
    "Understands multiplication as equal groups.": (
        "Entiende la multiplicación como grupos iguales."
    ),
    "Knows multiplication facts through 10 x 10.": (
        "Se sabe las tablas de multiplicar hasta 10 x 10."
    ),
    "Adds and subtracts large numbers accurately.": ("Suma y resta números grandes sin errores."),
    "Multiplies larger numbers by a single digit.": (
        "Multiplica números grandes por un número de una cifra."
    ),
    "Explains why 1/2 and 2/4 are the same amount.": (
        "Explica por qué 1/2 y 2/4 son la misma cantidad."
    ),
    "Adds and subtracts fractions with the same bottom number.": (
        "Suma y resta fracciones con el mismo denominador (el número de abajo)."
    ),
    "Solves word problems that take several steps.": (
        "Resuelve problemas escritos de varios pasos."
    ),
    "Finds the volume of boxes.": "Calcula el volumen de cajas.",
    "Understands place value, including decimals.": (
        "Entiende el valor posicional, también con decimales."
    ),
    "Multiplies multi-digit numbers.": "Multiplica números de varias cifras.",
    "Adds and subtracts fractions with different bottom numbers.": (
        "Suma y resta fracciones con distinto denominador (el número de abajo)."
    ),
    "Multiplies fractions.": "Multiplica fracciones.",
    "Works with expressions that use variables.": (
        "Trabaja con expresiones que usan letras en lugar de números."
    ),
    "Solves one-step equations.": "Resuelve ecuaciones de un paso.",
    "Does long division accurately.": "Hace divisiones largas sin errores.",
    "Describes relationships with ratios, like 3 cats for every 2 dogs.": (
        "Describe relaciones con razones, como 3 gatos por cada 2 perros."
    ),
    "Solves problems with rates, unit prices and percents.": (
        "Resuelve problemas de tasas, precios por unidad y porcentajes."
    ),
    "Describes data using averages and spread.": (
        "Describe datos con promedios y con cuánto varían."
    ),
    "Writes and solves equations for word problems.": (
        "Plantea y resuelve ecuaciones para problemas escritos."
    ),
    "Finds the area and circumference of circles.": (
        "Calcula el área y la circunferencia de un círculo."
    ),
    "Adds and subtracts positive and negative numbers.": (
        "Suma y resta números positivos y negativos."
    ),
    "Recognizes when two quantities are proportional.": (
        "Reconoce cuándo dos cantidades son proporcionales."
    ),
    "Understands probability as a number from 0 to 1.": (
        "Entiende la probabilidad como un número entre 0 y 1."
    ),
    "Uses exponent rules.": "Usa las reglas de los exponentes.",
    "Solves multi-step equations.": "Resuelve ecuaciones de varios pasos.",
    "Solves systems of two equations.": "Resuelve sistemas de dos ecuaciones.",
    "Understands what a function is.": "Entiende qué es una función.",
    "Uses the Pythagorean Theorem to find missing sides.": (
        "Usa el teorema de Pitágoras para hallar el lado que falta."
    ),
    "Finds where a polynomial equals zero.": "Encuentra dónde un polinomio vale cero.",
    "Writes equations to model real situations.": (
        "Escribe ecuaciones que representan situaciones reales."
    ),
    "Solves linear equations and inequalities.": ("Resuelve ecuaciones y desigualdades lineales."),
    "Solves systems of linear equations.": "Resuelve sistemas de ecuaciones lineales.",
    "Explains what the parts of an algebraic expression mean.": (
        "Explica qué significa cada parte de una expresión algebraica."
    ),
    "Explains how changing a function shifts or stretches its graph.": (
        "Explica cómo un cambio en una función mueve o estira su gráfica."
    ),
    "Finds the inverse of a function.": "Encuentra la función inversa de una función.",
    "Reads and explains graphs of functions.": "Lee y explica gráficas de funciones.",
    "Graphs functions and shows their key features.": (
        "Dibuja la gráfica de una función y señala sus rasgos principales."
    ),
    "Uses logarithms to solve exponential equations.": (
        "Usa logaritmos para resolver ecuaciones exponenciales."
    ),
    "Uses the unit circle for sine and cosine.": (
        "Usa el círculo unitario para hallar el seno y el coseno."
    ),
    "Uses sine and cosine to model repeating patterns.": (
        "Usa el seno y el coseno para representar patrones que se repiten."
    ),
    "Uses precise geometric definitions.": "Usa definiciones de geometría precisas.",
    "Proves facts about triangles.": "Demuestra propiedades de los triángulos.",
    "Finds the volume of cylinders, cones and spheres.": (
        "Calcula el volumen de cilindros, conos y esferas."
    ),
    "Decides whether two shapes are similar.": "Decide si dos figuras son semejantes.",
    "Uses sine, cosine and tangent to solve triangles.": (
        "Usa el seno, el coseno y la tangente para resolver triángulos."
    ),
    "Computes with complex numbers.": "Hace cálculos con números complejos.",
    "Works with vectors (size and direction).": ("Trabaja con vectores (tamaño y dirección)."),
    "Works with the normal (bell) curve.": "Trabaja con la curva normal (la campana).",
    "Counts to 100, by ones and by tens.": "Cuenta hasta 100, de uno en uno y de diez en diez.",
    "Knows that the last number counted tells how many.": (
        "Sabe que el último número que cuenta dice cuántos hay."
    ),
    "Names circles, squares, triangles and other shapes.": (
        "Nombra círculos, cuadrados, triángulos y otras figuras."
    ),
    "Shows adding and taking away with objects and drawings.": (
        "Muestra cómo sumar y quitar con objetos y dibujos."
    ),
    "Solves simple adding and subtracting stories up to 10.": (
        "Resuelve problemas sencillos de sumar y restar hasta 10."
    ),
    "Explains what citizens, parties, interest groups and the media each do.": (
        "Explica qué hacen los ciudadanos, los partidos, los grupos de interés y los medios."
    ),
    "Explains what each level of government can and must do.": (
        "Explica qué puede y qué debe hacer cada nivel de gobierno."
    ),
    "Explains how values and viewpoints shape how people solve public problems.": (
        "Explica cómo los valores y los puntos de vista influyen en cómo se resuelven los "
        "problemas de todos."
    ),
    "Weighs how personal views affect rights and democratic principles.": (
        "Valora cómo las opiniones personales afectan los derechos y los principios democráticos."
    ),
    "Explains how money choices affect people, businesses and communities.": (
        "Explica cómo las decisiones sobre el dinero afectan a las personas, los negocios y las "
        "comunidades."
    ),
    "Analyzes how incentives lead to choices with costs and benefits.": (
        "Analiza cómo los incentivos llevan a decisiones con costos y beneficios."
    ),
    "Uses maps and images to explain how places connect to their people and economy.": (
        "Usa mapas e imágenes para explicar la relación de un lugar con su gente y su economía."
    ),
    "Connects historical events to the bigger picture of their time.": (
        "Relaciona hechos históricos con el panorama general de su época."
    ),
    "Judges how time and place shaped historical events.": (
        "Evalúa cómo la época y el lugar influyeron en los hechos históricos."
    ),
    "Builds an argument about the past from evidence.": (
        "Construye un argumento sobre el pasado a partir de pruebas."
    ),
    "Combines several sources into a reasoned argument about the past.": (
        "Combina varias fuentes en un argumento razonado sobre el pasado."
    ),
    "Models how forces inside and on the Earth shape continents and ocean floors.": (
        "Representa cómo las fuerzas dentro y sobre la Tierra dan forma a los continentes y al "
        "fondo del mar."
    ),
    "Explains how DNA shapes the proteins that keep living things working.": (
        "Explica cómo el ADN determina las proteínas que mantienen vivos a los seres vivos."
    ),
    "Asks good questions about how DNA passes traits from parents to children.": (
        "Hace buenas preguntas sobre cómo el ADN pasa rasgos de padres a hijos."
    ),
    "Uses the periodic table to predict how elements behave.": (
        "Usa la tabla periódica para predecir cómo se comportan los elementos."
    ),
    "Uses data to show how force, mass and acceleration are related.": (
        "Usa datos para mostrar cómo se relacionan la fuerza, la masa y la aceleración."
    ),
    "Calculates how energy moves between parts of a system.": (
        "Calcula cómo pasa la energía de una parte de un sistema a otra."
    ),
    "Models the Earth, sun and moon to explain moon phases, eclipses and seasons.": (
        "Representa la Tierra, el Sol y la Luna para explicar las fases de la Luna, los eclipses "
        "y las estaciones."
    ),
    "Shows with evidence that living things are made of cells.": (
        "Muestra con pruebas que los seres vivos están hechos de células."
    ),
    "Explains how food and water supplies affect living things in an ecosystem.": (
        "Explica cómo la comida y el agua disponibles afectan a los seres vivos de un ecosistema."
    ),
    "Builds models of how atoms make up molecules.": (
        "Construye modelos de cómo los átomos forman moléculas."
    ),
    "Uses data to tell whether a chemical reaction happened.": (
        "Usa datos para saber si hubo una reacción química."
    ),
    "Uses Newton's third law to explain collisions.": (
        "Usa la tercera ley de Newton para explicar los choques."
    ),
}
