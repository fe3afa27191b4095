"""Technology-Enabled Care: homes watched for the wellbeing of the people living there.

So far the domain declares its tenants (councils), entities (homes) and pages; the
routine-learning operators and wellbeing alerts are issue 8's work.
"""

from vigil.care.domain import domain

__all__ = ["domain"]
