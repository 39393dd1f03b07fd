"""Validate kneepath's FHIR output with the strict models of the
fhir.resources package (R4B models: the package's closest to R4).
Usage: python fhir-validate.py BIN CASES_DIR. Exits non-zero on any error."""
import json
import pathlib
import subprocess
import sys

from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

bin_, cases = sys.argv[1], pathlib.Path(sys.argv[2])
q = json.loads(subprocess.run([bin_, "fhir", "questionnaire"], check=True, capture_output=True, text=True).stdout)
Questionnaire.model_validate(q)
n = 0
for case in sorted(cases.glob("*.toml")):
    out = subprocess.run([bin_, "fhir", "response", "--facts", str(case)], check=True, capture_output=True, text=True).stdout
    QuestionnaireResponse.model_validate(json.loads(out))
    n += 1
print(f"FHIR: Questionnaire and {n} QuestionnaireResponses valid")
