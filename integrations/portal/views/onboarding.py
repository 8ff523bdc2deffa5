from .placeholder import planned

company_overview = planned("Overview")
connect = planned("Connect your accounting software")
review = planned("Review")
automatic_sync = planned("Automatic sync")
connection = planned("Connection")
