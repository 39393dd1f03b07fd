-- An opt-in daily check-in reminder by email: the time of day it is sent
-- (HH:MM, in the person's own time zone; NULL: no reminder) and the day
-- (the person's own) one was last sent, so that it goes once a day even
-- with several instances serving.
ALTER TABLE users ADD COLUMN reminder_time TEXT;
ALTER TABLE users ADD COLUMN reminded_on TEXT;
