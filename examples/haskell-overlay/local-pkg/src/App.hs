module App (run) where

run :: IO ()
run = putStrLn "example"
