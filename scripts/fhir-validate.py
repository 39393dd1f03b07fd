"""Validate kneepath's FHIR output with the strict models of the
fhir.resources package (R4B models: the package's closest to R4): every
questionnaire, a QuestionnaireResponse per case file, and a whole patient
record exported as a Bundle (the demo patient: assessments with their
RiskAssessments, check-ins, KOOS responses and scores, measurements, the
CarePlan), each resource of the bundle with its own model as well.
Usage: python fhir-validate.py BIN CASES_DIR. Exits non-zero on any error."""
import collections
import json
import pathlib
import subprocess
import sys
import tempfile

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

bin_, cases = sys.argv[1], pathlib.Path(sys.argv[2])


def run(*args):
    return subprocess.run([bin_, *args], check=True, capture_output=True, text=True).stdout


for name in ["assessment", "checkin", "koos", "lefs", "nprs"]:
    Questionnaire.model_validate(json.loads(run("fhir", "questionnaire", "--name", name)))
n = 0
for case in sorted(cases.glob("*.toml")):
    QuestionnaireResponse.model_validate(json.loads(run("fhir", "response", "--facts", str(case))))
    n += 1

with tempfile.TemporaryDirectory() as d:
    db = f"sqlite://{d}/fhir.db"
    run("demo", "--database", db)
    bundle = json.loads(run("export", "--fhir", "--database", db, "--patient", "demo@kneepath.local"))
Bundle.model_validate(bundle)
kinds = collections.Counter()
for entry in bundle["entry"]:
    resource = entry["resource"]
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    kinds[resource["resourceType"]] += 1
for needed in ["Patient", "QuestionnaireResponse", "Observation", "RiskAssessment", "CarePlan"]:
    if not kinds[needed]:
        sys.exit(f"the exported Bundle has no {needed}")
print(f"FHIR: 5 Questionnaires, {n} QuestionnaireResponses and a Bundle of "
      + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items())) + ": all valid")
