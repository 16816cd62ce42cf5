"""The words generated districts are written with: names, schools, visit notes, goals.

Plain text only (no tabs, newlines or backslashes), so every value goes through COPY as is.
"""

FIRST = [
    "Maria",
    "James",
    "Aisha",
    "Wei",
    "Carlos",
    "Fatima",
    "John",
    "Priya",
    "Kofi",
    "Elena",
    "Samuel",
    "Grace",
    "Omar",
    "Lucia",
    "Daniel",
    "Nia",
    "Tomas",
    "Hannah",
    "Yusuf",
    "Rosa",
    "Michael",
    "Amara",
    "Luis",
    "Chen",
    "Sofia",
    "David",
    "Layla",
    "Peter",
    "Ines",
    "Ahmed",
]
LAST = [
    "Garcia",
    "Smith",
    "Okafor",
    "Nguyen",
    "Johnson",
    "Haddad",
    "Kim",
    "Brown",
    "Silva",
    "Patel",
    "Murphy",
    "Rossi",
    "Cohen",
    "Diaz",
    "Walker",
    "Mensah",
    "Lopez",
    "Baker",
    "Ivanova",
    "Hughes",
    "Tanaka",
    "Moreau",
    "Ali",
    "Clarke",
    "Fischer",
    "Reyes",
    "Ward",
]
SCHOOL_WORDS = [
    "Lincoln",
    "Roosevelt",
    "Jefferson",
    "Madison",
    "King",
    "Parks",
    "Douglass",
    "Adams",
    "Hale",
    "Emerson",
    "Dewey",
    "Franklin",
    "Hamilton",
    "Tubman",
    "Chavez",
    "Curie",
    "Mann",
    "Holmes",
    "Lowell",
    "Whitman",
]
SCHOOL_KINDS = ("Elementary", "Middle School", "High School", "K-8 Academy")
SUBJECTS = ("Mathematics", "English", "Science", "History", "Art", "Music", "Spanish", "ELL")
GRADES = ("K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12")
LANGUAGES = ("English", "Spanish", "Haitian Creole", "Vietnamese", "Cape Verdean Creole")
NOTES = (
    "Observed a full lesson; routines for transitions are in place and students moved quickly.",
    "Co-planned the unit on fractions; agreed on two formative checks per week.",
    "Debriefed the observation: questioning stayed at recall level, we practised follow-ups.",
    "Modelled a think-aloud for the reading block; the teacher will try it on Thursday.",
    "Reviewed student work samples together and sorted them by the success criteria.",
    "Discussed classroom management plan; the seating chart was revised during the visit.",
)
NEXT = (
    "Try the exit ticket daily and bring three samples next time.",
    "Plan one lesson with explicit success criteria and share it before Monday.",
    "Visit a colleague's class during planning period to see the routine in action.",
    "Keep the behaviour log for two weeks and we will look for patterns.",
)
GOALS = (
    "Use formative assessment to adjust instruction within the lesson.",
    "Establish consistent routines for the first ten minutes of class.",
    "Plan units backwards from standards-aligned assessments.",
    "Increase student talk time with structured discussion protocols.",
)
EVIDENCE = (
    "Lesson plan with differentiated tasks for three reading groups.",
    "Observation notes: 80% of students on task during independent practice.",
    "Parent communication log for the quarter.",
    "Student work samples before and after the feedback cycle.",
)
