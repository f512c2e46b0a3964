CREATE TABLE "teams" ("id" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL);
CREATE TABLE "users" (
  "id" INTEGER NOT NULL PRIMARY KEY,
  "email" TEXT NOT NULL,
  "nick" TEXT,
  "legacy" INTEGER NOT NULL,
  "score" INTEGER,
  "bio" TEXT DEFAULT 'x',
  "old_team_id" INTEGER,
  CONSTRAINT "users_old_team_fk" FOREIGN KEY ("old_team_id") REFERENCES "teams" ("id")
);
CREATE INDEX "users_legacy_idx" ON "users" ("legacy");
CREATE TABLE "audit" ("id" INTEGER NOT NULL PRIMARY KEY, "what" TEXT NOT NULL);
CREATE TABLE "tags" ("id" INTEGER NOT NULL PRIMARY KEY, "label" TEXT NOT NULL);
